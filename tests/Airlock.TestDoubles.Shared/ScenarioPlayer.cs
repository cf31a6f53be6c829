using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Airlock.TestDoubles;

/// <summary>
/// TEST DOUBLE ONLY. Replays a scenario file (path in AIRLOCK_TEST_DOUBLE_SCENARIO) for a fake
/// tofu/pulumi CLI: records each argv, picks the next scripted response for the command, and
/// prints real captured text (fixtures, error-messages.md examples) exactly as given.
/// Never used by the product.
/// </summary>
internal sealed class ScenarioPlayer
{
    public const string ScenarioVariable = "AIRLOCK_TEST_DOUBLE_SCENARIO";
    public const string PlanFileMagic = "airlock-test-double-plan:";

    private readonly JsonObject _scenario;
    private readonly string _scenarioPath;

    private ScenarioPlayer(string scenarioPath, JsonObject scenario)
    {
        _scenarioPath = scenarioPath;
        _scenario = scenario;
    }

    public static ScenarioPlayer Load()
    {
        var path = Environment.GetEnvironmentVariable(ScenarioVariable)
            ?? throw new InvalidOperationException(ScenarioVariable + " is not set: this test double runs only inside tests");
        return new ScenarioPlayer(path, JsonNode.Parse(File.ReadAllText(path))!.AsObject());
    }

    public string? StateFile => (string?)_scenario["state_file"];

    public string? Setting(string name) => (string?)_scenario[name];

    /// <summary>Appends {argv, cwd, env} to the record file; credential variables by name only.</summary>
    public void Record(string[] args)
    {
        var record = (string?)_scenario["record_file"];
        if (record is null)
        {
            return;
        }

        var env = new JsonObject();
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>().Order(StringComparer.Ordinal))
        {
            if (key.StartsWith("TF_", StringComparison.Ordinal) || key.StartsWith("PULUMI_", StringComparison.Ordinal) || key.StartsWith("AIRLOCK_", StringComparison.Ordinal))
            {
                env[key] = Environment.GetEnvironmentVariable(key);
            }
            else if (key.StartsWith("AWS_", StringComparison.Ordinal))
            {
                env[key] = "<set>";
            }
        }

        var line = new JsonObject
        {
            ["argv"] = new JsonArray(args.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["cwd"] = Environment.CurrentDirectory,
            ["env"] = env,
        };
        File.AppendAllText(record, line.ToJsonString() + "\n");
    }

    /// <summary>The next scripted response for <paramref name="command"/> (the last one repeats), or null.</summary>
    public JsonObject? NextResponse(string command)
    {
        if (_scenario["responses"]?[command] is not JsonArray list || list.Count == 0)
        {
            return null;
        }

        var counterFile = _scenarioPath + ".calls";
        var counters = File.Exists(counterFile) ? JsonNode.Parse(File.ReadAllText(counterFile))!.AsObject() : [];
        var used = (int?)counters[command] ?? 0;
        counters[command] = used + 1;
        File.WriteAllText(counterFile, counters.ToJsonString());
        return list[Math.Min(used, list.Count - 1)]!.AsObject();
    }

    /// <summary>Prints the response's scripted output: literal text, file contents, or an error-messages.md example.</summary>
    public static void WriteScriptedOutput(JsonObject? response)
    {
        if (response is null)
        {
            return;
        }

        if ((string?)response["stdout_file"] is { } stdoutFile)
        {
            Console.Out.Write(File.ReadAllText(stdoutFile));
        }

        if ((string?)response["stdout"] is { } stdout)
        {
            Console.Out.Write(stdout);
        }

        if ((string?)response["stderr"] is { } stderr)
        {
            Console.Error.Write(stderr);
        }

        if (response["stderr_example"] is JsonObject example)
        {
            Console.Error.Write(ErrorExample((string)example["file"]!, (int)example["number"]!));
        }

        Console.Out.Flush();
        Console.Error.Flush();
    }

    /// <summary>Hangs or crashes when the response says so; otherwise returns the scripted exit code (default 0).</summary>
    public static int Finish(JsonObject? response, string toolName)
    {
        if ((string?)response?["crash"] == "sigkill")
        {
            // A runner-level death: the process disappears without a word (exit status 128+9).
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }

        if (response?["crash"] is not null)
        {
            // Wording from hashicorp/terraform#30646 and #30157; an unrecovered Go panic exits 2.
            Console.Error.WriteLine("panic: runtime error: invalid memory address or nil pointer dereference");
            Console.Error.WriteLine("[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1b2c3d4]");
            Console.Error.WriteLine();
            Console.Error.WriteLine($"{toolName} crashed! This is always indicative of a bug within {toolName}.");
            Console.Error.Flush();
            return 2;
        }

        if ((string?)response?["hang"] is { } hang)
        {
            using var registration = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                if (hang == "exit_on_sigint")
                {
                    // OpenTofu's shutdown message on the first interrupt.
                    Console.Error.WriteLine("Interrupt received.");
                    Console.Error.WriteLine($"Please wait for {toolName} to exit or data loss may occur.");
                    Console.Error.WriteLine("Gracefully shutting down...");
                    Console.Error.Flush();
                    Environment.Exit(1);
                }
            });
            Console.Out.WriteLine("double: hanging");
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
        }

        return (int?)response?["exit"] ?? 0;
    }

    /// <summary>The first fenced block after "### Example N" in error-messages.md, verbatim.</summary>
    public static string ErrorExample(string markdownFile, int number)
    {
        var lines = File.ReadAllLines(markdownFile);
        var heading = Array.FindIndex(lines, l => l == $"### Example {number}" || l.StartsWith($"### Example {number}:", StringComparison.Ordinal));
        if (heading < 0)
        {
            throw new InvalidOperationException($"no Example {number} in {markdownFile}");
        }

        var open = Array.FindIndex(lines, heading, l => l.StartsWith("```", StringComparison.Ordinal));
        var close = Array.FindIndex(lines, open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        return string.Join('\n', lines[(open + 1)..close]) + "\n";
    }

    /// <summary>Value of "-name=value", "--name=value" or "--name value".</summary>
    public static string? Flag(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }

            if (args[i] == name && i + 1 < args.Length)
            {
                return args[i + 1];
            }
        }

        return null;
    }

    public static void WritePlanFile(string path, string fixture) => File.WriteAllText(path, PlanFileMagic + fixture);

    /// <summary>The fixture a double plan file points at, or null when the file is not one of ours.</summary>
    public static string? ReadPlanFile(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var text = File.ReadAllText(path);
        return text.StartsWith(PlanFileMagic, StringComparison.Ordinal) ? text[PlanFileMagic.Length..] : null;
    }

    public JsonObject ReadState() => JsonNode.Parse(File.ReadAllText(StateFile!))!.AsObject();

    public void WriteState(JsonObject state) => File.WriteAllText(StateFile!, state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
