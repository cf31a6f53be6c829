using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

using Airlock.Engines.Processes;
using Airlock.Testing;

namespace Airlock.Engines.Tests;

/// <summary>
/// Sets up the TEST DOUBLE of tofu or pulumi for one test: a temp dir with a wrapper script named
/// like the tool (exec dotnet &lt;double&gt;.dll "$@"), a scenario file, a mutable state copy and
/// the record of every argv the double received. Adapters are given the wrapper's absolute path;
/// nothing relies on PATH.
/// </summary>
public sealed class DoubleHarness : IDisposable
{
    private readonly TempDir _dir = new("airlock-double");

    private DoubleHarness(string tool, string project)
    {
        WorkingDirectory = Directory.CreateDirectory(Path.Combine(_dir.Path, "stack")).FullName;
        ArtifactDirectory = Path.Combine(_dir.Path, "artifacts");
        ScenarioFile = _dir.File("scenario.json");
        RecordFile = _dir.File("calls.jsonl");
        StateFile = _dir.File("state.json");
        Binary = Scripts.Write(_dir, tool, $"exec \"{DotnetHost()}\" \"{DoubleDll(project)}\" \"$@\"");
    }

    public string Binary { get; }

    public string WorkingDirectory { get; }

    public string ArtifactDirectory { get; }

    public string ScenarioFile { get; }

    public string RecordFile { get; }

    public string StateFile { get; }

    public static DoubleHarness Tofu(string stateFixture, JsonObject responses, string? version = null) =>
        Create("tofu", "Airlock.TestDoubles.Tofu", File.ReadAllText(stateFixture), responses, version);

    public static DoubleHarness Pulumi(JsonObject state, JsonObject responses, string? version = null) =>
        Create("pulumi", "Airlock.TestDoubles.Pulumi", state.ToJsonString(), responses, version);

    /// <summary>Process options pointing the double at this scenario, plus an identity profile.</summary>
    public EngineProcessOptions ProcessOptions(TimeSpan? timeout = null, TimeSpan? grace = null) => new()
    {
        WorkingDirectory = WorkingDirectory,
        Environment = new Dictionary<string, string> { ["AIRLOCK_TEST_DOUBLE_SCENARIO"] = ScenarioFile },
        CredentialEnvironment = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        },
        Timeout = timeout ?? TimeSpan.FromMinutes(2),
        GracePeriod = grace ?? TimeSpan.FromSeconds(10),
    };

    /// <summary>Every argv the double received, in order.</summary>
    public IReadOnlyList<string[]> Calls() => Records().Select(r => r["argv"]!.AsArray().Select(a => (string)a!).ToArray()).ToList();

    /// <summary>Every call's recorded environment (credentials by name only).</summary>
    public IReadOnlyList<JsonObject> Environments() => Records().Select(r => r["env"]!.AsObject()).ToList();

    public long StateNumber(string property) => (long)JsonNode.Parse(File.ReadAllText(StateFile))![property]!;

    public void Dispose() => _dir.Dispose();

    public static string Fixture(params string[] parts) => RepoPaths.Fixture(parts);

    public static JsonObject ErrorExample(int number) => new() { ["file"] = RepoPaths.Fixture("error-messages.md"), ["number"] = number };

    private static DoubleHarness Create(string tool, string project, string state, JsonObject responses, string? version)
    {
        var harness = new DoubleHarness(tool, project);
        File.WriteAllText(harness.StateFile, state);
        var scenario = new JsonObject
        {
            ["record_file"] = harness.RecordFile,
            ["state_file"] = harness.StateFile,
            ["responses"] = responses,
        };
        if (version is not null)
        {
            scenario["version"] = version;
        }

        File.WriteAllText(harness.ScenarioFile, scenario.ToJsonString());
        return harness;
    }

    private List<JsonObject> Records() => File.Exists(RecordFile)
        ? File.ReadAllLines(RecordFile).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
        : [];

    private static string DoubleDll(string project)
    {
        // The doubles build beside this test project with the same configuration (Debug/Release).
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var dll = Path.Combine(RepoPaths.RepoRoot, "tests", project, "bin", configuration, "net10.0", project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("test double not built", dll);
    }

    private static string DotnetHost()
    {
        var fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}
