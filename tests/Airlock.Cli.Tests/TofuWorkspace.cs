using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Store.Tests;
using Airlock.Testing;

namespace Airlock.Cli.Tests;

/// <summary>
/// A real workspace for governed-apply tests of the OpenTofu adapter: a git repository with
/// airlock.yaml whose opentofu binary is a wrapper script around the tofu TEST DOUBLE, plus the
/// double's scenario, mutable state copy and call record kept OUTSIDE the repository (so they never
/// make the working tree dirty). The store is the workspace's SQLite file or a fresh PostgreSQL database.
/// </summary>
public sealed class TofuWorkspace : IDisposable
{
    /// <summary>The stack every test uses.</summary>
    public const string Stack = "network";

    private const string DoubleProject = "Airlock.TestDoubles.Tofu";

    private readonly TempDir _dir = new("airlock-tofu-e2e");
    private GitHistory? _git;
    private readonly Dictionary<string, string?> _environment;

    private TofuWorkspace(string store, Dictionary<string, string?> environment)
    {
        Store = store;
        _environment = environment;
        Root = Directory.CreateDirectory(Path.Combine(_dir.Path, "repo")).FullName;
        var doubleDirectory = Directory.CreateDirectory(Path.Combine(_dir.Path, "double")).FullName;
        DoubleDirectory = doubleDirectory;
        ScenarioFile = Path.Combine(doubleDirectory, "scenario.json");
        StateFile = Path.Combine(doubleDirectory, "state.json");
        RecordFile = Path.Combine(doubleDirectory, "calls.jsonl");
        Binary = Path.Combine(doubleDirectory, "tofu");
    }

    /// <summary>"sqlite" or "postgresql".</summary>
    public string Store { get; }

    /// <summary>The repository root (holds airlock.yaml).</summary>
    public string Root { get; }

    /// <summary>Where the double's files and derived plan JSON variants live (outside the repository).</summary>
    public string DoubleDirectory { get; }

    public string ScenarioFile { get; }

    public string StateFile { get; }

    public string RecordFile { get; }

    /// <summary>The wrapper script configured as the opentofu binary.</summary>
    public string Binary { get; }

    /// <summary>
    /// Creates the workspace: <paramref name="config"/> is airlock.yaml after the version/project/defaults
    /// header (teams, environments, resource_classes, stacks: the stack must be <see cref="Stack"/> at
    /// path stacks/network). <paramref name="responses"/> are the double's scripted responses.
    /// </summary>
    public static async Task<TofuWorkspace> CreateAsync(string store, string config, string stateFixture, JsonObject responses)
    {
        var environment = new Dictionary<string, string?>
        {
            // The parent's settings must not choose the store or the actor for the CLI.
            ["AIRLOCK_DATABASE_URL"] = string.Empty,
            ["AIRLOCK_PLAN_KEY"] = string.Empty,
            ["AIRLOCK_ACTOR"] = string.Empty,
            ["AIRLOCK_EVIDENCE_KEY"] = string.Empty,
        };
        if (store == "postgresql")
        {
            environment["AIRLOCK_DATABASE_URL"] = await PostgresServer.CreateDatabaseAsync();
            environment["AIRLOCK_PLAN_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        }
        else if (store != "sqlite")
        {
            throw new ArgumentException("store is sqlite or postgresql", nameof(store));
        }

        var workspace = new TofuWorkspace(store, environment);
        try
        {
            workspace.WriteDouble(stateFixture, responses);
            workspace.WriteRepository(config);
            workspace._git = new GitHistory(workspace.Root);
            workspace._git.Commit("initial stack");
            return workspace;
        }
        catch
        {
            workspace.Dispose();
            throw;
        }
    }

    /// <summary>Runs the real CLI in the workspace with this store's environment.</summary>
    public Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync(Root, _environment, args);

    /// <summary>
    /// Runs the real CLI, and once a line of its output contains <paramref name="trigger"/> sends it SIGINT (what
    /// Ctrl+C does), then waits for it to finish. Fails when the trigger never appears.
    /// </summary>
    public async Task<CliResult> RunAndInterruptAsync(string trigger, params string[] args)
    {
        using var cli = CliRunner.Start(Root, _environment, args);
        await cli.WaitForLineAsync(trigger);
        await cli.InterruptAsync();
        return await cli.WaitForExitAsync();
    }

    /// <summary>Plans <see cref="Stack"/> in <paramref name="environment"/> as <paramref name="actor"/>; asserts success and returns `plan --json`.</summary>
    public async Task<JsonElement> PlanAsync(string environment, string actor)
    {
        var result = await RunAsync("plan", Stack, "--env", environment, "--as", actor, "--json");
        Assert.True(result.ExitCode == 0, "plan should succeed\n" + result);
        using var json = JsonDocument.Parse(result.Stdout);
        return json.RootElement.Clone();
    }

    /// <summary>Every argv the double received, in order.</summary>
    public IReadOnlyList<string[]> Calls() => Records().Select(r => r["argv"]!.AsArray().Select(a => (string)a!).ToArray()).ToList();

    /// <summary>The argv of every `apply` the double received.</summary>
    public IReadOnlyList<string[]> ApplyCalls() => Calls().Where(c => c.Length > 0 && c[0] == "apply").ToList();

    /// <summary>Every call's recorded AIRLOCK_*/TF_* environment (credentials by name only).</summary>
    public IReadOnlyList<JsonObject> CallEnvironments() => Records().Select(r => r["env"]!.AsObject()).ToList();

    /// <summary>The serial in the double's state file.</summary>
    public long Serial() => (long)JsonNode.Parse(File.ReadAllText(StateFile))!["serial"]!;

    /// <summary>Sets the state serial, as if someone else had applied in the meantime.</summary>
    public void SetSerial(long serial)
    {
        var state = JsonNode.Parse(File.ReadAllText(StateFile))!.AsObject();
        state["serial"] = serial;
        File.WriteAllText(StateFile, state.ToJsonString());
    }

    /// <summary>Replaces the state's lineage: the state is now a different state (e.g. a re-created backend), whatever its serial.</summary>
    public void SetLineage(string lineage)
    {
        var state = JsonNode.Parse(File.ReadAllText(StateFile))!.AsObject();
        state["lineage"] = lineage;
        File.WriteAllText(StateFile, state.ToJsonString());
    }

    /// <summary>Writes a derived plan JSON next to the double and returns its path (for plan_json_file).</summary>
    public string WritePlanJson(string name, JsonNode plan)
    {
        var path = Path.Combine(DoubleDirectory, name);
        File.WriteAllText(path, plan.ToJsonString());
        return path;
    }

    /// <summary>Changes the stack's source and commits it, moving HEAD.</summary>
    public Task CommitChangeAsync(string message)
    {
        File.AppendAllText(Path.Combine(Root, "stacks", Stack, "main.tf"), $"# {message}\n");
        _git!.Commit(message);
        return Task.CompletedTask;
    }

    public void Dispose() => _dir.Dispose();

    private List<JsonObject> Records() => File.Exists(RecordFile)
        ? File.ReadAllLines(RecordFile).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
        : [];

    private void WriteDouble(string stateFixture, JsonObject responses)
    {
        File.Copy(stateFixture, StateFile);
        var scenario = new JsonObject
        {
            ["record_file"] = RecordFile,
            ["state_file"] = StateFile,
            ["responses"] = responses,
        };
        File.WriteAllText(ScenarioFile, scenario.ToJsonString());

        // Airlock strips inherited AIRLOCK_* variables from tool processes, so the wrapper names the scenario itself.
        File.WriteAllText(Binary, $"""
            #!/bin/sh
            export AIRLOCK_TEST_DOUBLE_SCENARIO={Quote(ScenarioFile)}
            exec {Quote(DotnetHost())} {Quote(DoubleDll())} "$@"

            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Binary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private void WriteRepository(string config)
    {
        var stackDirectory = Directory.CreateDirectory(Path.Combine(Root, "stacks", Stack)).FullName;
        File.WriteAllText(Path.Combine(stackDirectory, "main.tf"), "# planned and applied by the tofu TEST DOUBLE\n");
        File.WriteAllText(Path.Combine(Root, "airlock.yaml"), $"""
            version: 1
            project: e2e-tofu
            defaults:
              engine: opentofu
              tools:
                opentofu:
                  binary: {JsonSerializer.Serialize(Binary)}

            """ + config);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string DoubleDll()
    {
        // The double builds beside this test project with the same configuration (Debug/Release).
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var dll = Path.Combine(RepoPaths.RepoRoot, "tests", DoubleProject, "bin", configuration, "net10.0", DoubleProject + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("tofu test double not built", dll);
    }

    private static string DotnetHost()
    {
        var fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}
