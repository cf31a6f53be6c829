// TEST DOUBLE of the `tofu` CLI (the subset Airlock's adapter uses). Never used by the product.
using System.Globalization;
using System.Text.Json.Nodes;

using Airlock.TestDoubles;

var player = ScenarioPlayer.Load();
player.Record(args);

var command = args.Length >= 2 && args[0] == "state" ? "state " + args[1] : args.FirstOrDefault() ?? string.Empty;
var response = player.NextResponse(command);
ScenarioPlayer.WriteScriptedOutput(response);
// Crashes, hangs and plain failures (lock, auth, throttling) happen before any progress output;
// a partial apply names how many operations complete first ("complete_ops").
var failsImmediately = response is not null && (response["crash"] is not null || response["hang"] is not null
    || ((int?)response["exit"] is { } code && code != 0 && response["complete_ops"] is null && response["plan_json_file"] is null));
if (failsImmediately)
{
    return ScenarioPlayer.Finish(response, "OpenTofu");
}

switch (command)
{
    case "version":
        if (response?["stdout"] is null && response?["stdout_file"] is null)
        {
            Console.WriteLine(new JsonObject
            {
                ["terraform_version"] = player.Setting("version") ?? "1.8.2",
                ["platform"] = "linux_amd64",
                ["provider_selections"] = new JsonObject { ["registry.opentofu.org/hashicorp/null"] = "3.2.2" },
                ["terraform_outdated"] = false,
            }.ToJsonString());
        }

        break;

    case "init":
        Console.WriteLine("OpenTofu has been successfully initialized!");
        break;

    case "plan":
        {
            var fixture = (string?)response?["plan_json_file"] ?? throw new InvalidOperationException("plan needs plan_json_file");
            if (ScenarioPlayer.Flag(args, "-out") is { } outFile)
            {
                ScenarioPlayer.WritePlanFile(outFile, fixture);
            }

            var changes = Changes(fixture);
            Console.WriteLine(changes.Count == 0
                ? "No changes. Your infrastructure matches the configuration."
                : string.Create(CultureInfo.InvariantCulture, $"Plan: {changes.Count(c => c.Kind == "create")} to add, {changes.Count(c => c.Kind == "update")} to change, {changes.Count(c => c.Kind == "delete")} to destroy."));
            var exit = (int?)response?["exit"];
            return exit ?? (args.Contains("-detailed-exitcode") && changes.Count > 0 ? 2 : 0);
        }

    case "show":
        {
            var fixture = ScenarioPlayer.ReadPlanFile(args[^1]);
            if (fixture is null)
            {
                Console.Error.WriteLine("Error: Failed to read the given file as a state or plan file");
                return 1;
            }

            Console.Out.Write(File.ReadAllText(fixture));
            break;
        }

    case "apply":
        {
            var fixture = ScenarioPlayer.ReadPlanFile(args[^1]);
            if (fixture is null)
            {
                Console.Error.WriteLine("Error: Failed to load \"" + args[^1] + "\" as a plan file");
                return 1;
            }

            var changes = Changes(fixture);
            var completeOps = (int?)response?["complete_ops"] ?? changes.Count;
            var done = changes.Take(completeOps).ToList();
            foreach (var change in done)
            {
                Console.WriteLine($"{change.Address}: {Started(change.Kind)}");
                Console.WriteLine($"{change.Address}: {Completed(change.Kind)} after 0s [id=double-{change.Address.GetHashCode(StringComparison.Ordinal):x}]");
            }

            if (completeOps < changes.Count)
            {
                // The next operation starts and never completes: the partial apply of a real run.
                Console.WriteLine($"{changes[completeOps].Address}: {Started(changes[completeOps].Kind)}");
            }

            var advance = (int?)response?["advance_serial"] ?? (completeOps > 0 ? 1 : 0);
            if (advance > 0)
            {
                var state = player.ReadState();
                state["serial"] = (long)state["serial"]! + advance;
                player.WriteState(state);
            }

            if (completeOps < changes.Count || (int?)response?["exit"] is > 0)
            {
                Console.Out.Flush();
                return ScenarioPlayer.Finish(response, "OpenTofu");
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Apply complete! Resources: {done.Count(c => c.Kind == "create")} added, {done.Count(c => c.Kind == "update")} changed, {done.Count(c => c.Kind == "delete")} destroyed."));
            break;
        }

    case "state pull":
        Console.Out.Write(File.ReadAllText(player.StateFile!));
        break;

    case "output":
        {
            var outputs = new JsonObject();
            if (player.ReadState()["outputs"] is JsonObject stateOutputs)
            {
                foreach (var (name, value) in stateOutputs)
                {
                    outputs[name] = new JsonObject
                    {
                        ["sensitive"] = (bool?)value?["sensitive"] ?? false,
                        ["type"] = value?["type"]?.DeepClone(),
                        ["value"] = value?["value"]?.DeepClone(),
                    };
                }
            }

            Console.WriteLine(outputs.ToJsonString());
            break;
        }

    default:
        Console.Error.WriteLine($"double: unsupported command {command}");
        return 64;
}

return ScenarioPlayer.Finish(response, "OpenTofu");

static List<(string Address, string Kind)> Changes(string planJsonFile)
{
    var plan = JsonNode.Parse(File.ReadAllText(planJsonFile))!;
    var list = new List<(string, string)>();
    foreach (var rc in plan["resource_changes"]?.AsArray() ?? [])
    {
        var actions = rc!["change"]!["actions"]!.AsArray().Select(a => (string)a!).ToList();
        var address = (string)rc["address"]!;
        if (actions.Contains("delete"))
        {
            list.Add((address, "delete"));
        }

        if (actions.Contains("create"))
        {
            list.Add((address, "create"));
        }

        if (actions.Contains("update"))
        {
            list.Add((address, "update"));
        }
    }

    return list;
}

static string Started(string kind) => kind switch { "create" => "Creating...", "update" => "Modifying...", _ => "Destroying..." };

static string Completed(string kind) => kind switch { "create" => "Creation complete", "update" => "Modifications complete", _ => "Destruction complete" };
