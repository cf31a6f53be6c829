// TEST DOUBLE of the `pulumi` CLI (the subset Airlock's adapter uses). Never used by the product.
using System.Text.Json.Nodes;

using Airlock.TestDoubles;

var player = ScenarioPlayer.Load();
player.Record(args);

var command = args.Length >= 2 && args[0] == "stack" ? "stack " + args[1] : args.FirstOrDefault() ?? string.Empty;
var response = player.NextResponse(command);
ScenarioPlayer.WriteScriptedOutput(response);
var failsImmediately = response is not null && (response["crash"] is not null || response["hang"] is not null
    || ((int?)response["exit"] is { } code && code != 0 && response["events_file"] is null));
if (failsImmediately)
{
    return ScenarioPlayer.Finish(response, "Pulumi");
}

switch (command)
{
    case "version":
        Console.WriteLine(player.Setting("version") ?? "v3.140.0");
        break;

    case "stack select":
        break;

    case "preview":
        {
            var events = (string?)response?["events_file"] ?? throw new InvalidOperationException("preview needs events_file");
            if (ScenarioPlayer.Flag(args, "--save-plan") is { } planFile)
            {
                ScenarioPlayer.WritePlanFile(planFile, events);
            }

            CopyEvents(events, ScenarioPlayer.Flag(args, "--event-log"));
            Console.WriteLine("Previewing update (" + ScenarioPlayer.Flag(args, "--stack") + "):");
            break;
        }

    case "up":
        {
            var planFile = ScenarioPlayer.Flag(args, "--plan");
            if (planFile is not null && ScenarioPlayer.ReadPlanFile(planFile) is null)
            {
                Console.Error.WriteLine("error: could not read plan file");
                return 255;
            }

            var events = (string?)response?["events_file"] ?? throw new InvalidOperationException("up needs events_file");
            CopyEvents(events, ScenarioPlayer.Flag(args, "--event-log"));
            var state = player.ReadState();
            state["version"] = (long)state["version"]! + ((int?)response?["advance_version"] ?? 1);
            player.WriteState(state);
            Console.WriteLine("Updating (" + ScenarioPlayer.Flag(args, "--stack") + "):");
            break;
        }

    case "stack history":
        {
            var state = player.ReadState();
            Console.WriteLine(new JsonArray(new JsonObject
            {
                ["version"] = (long)state["version"]!,
                ["kind"] = "update",
                ["result"] = "succeeded",
            }).ToJsonString());
            break;
        }

    case "stack export":
        {
            var state = player.ReadState();
            Console.WriteLine(new JsonObject
            {
                ["version"] = 3,
                ["deployment"] = new JsonObject
                {
                    ["manifest"] = new JsonObject { ["version"] = player.Setting("version") ?? "v3.140.0" },
                    ["resources"] = state["resources"]?.DeepClone() ?? new JsonArray(),
                },
            }.ToJsonString());
            break;
        }

    case "stack output":
        {
            // Like Pulumi: secret outputs print as "[secret]" unless --show-secrets is given.
            var state = player.ReadState();
            var outputs = state["outputs"]?.DeepClone().AsObject() ?? [];
            if (args.Contains("--show-secrets") && state["secret_outputs"] is JsonObject secrets)
            {
                foreach (var (name, value) in secrets)
                {
                    outputs[name] = value?.DeepClone();
                }
            }

            Console.WriteLine(outputs.ToJsonString());
            break;
        }

    case "config":
        {
            // `config set [--secret] -- NAME VALUE` into the file named by --config-file, which must exist
            // outside the stack directory (Airlock never edits the committed stack config).
            var separator = Array.IndexOf(args, "--");
            var configFile = ScenarioPlayer.Flag(args, "--config-file");
            if (args.ElementAtOrDefault(1) != "set" || separator < 0 || separator + 2 >= args.Length || configFile is null)
            {
                Console.Error.WriteLine("double: config needs: config set --config-file FILE [--secret] -- NAME VALUE");
                return 64;
            }

            var secret = args.Contains("--secret");
            File.AppendAllText(configFile, $"  project:{args[separator + 1]}: {(secret ? "{secure: double-encrypted}" : args[separator + 2])}\n");
            break;
        }

    default:
        Console.Error.WriteLine($"double: unsupported command {command}");
        return 64;
}

return ScenarioPlayer.Finish(response, "Pulumi");

static void CopyEvents(string fixture, string? eventLog)
{
    if (eventLog is not null)
    {
        File.Copy(fixture, eventLog, overwrite: true);
    }
}
