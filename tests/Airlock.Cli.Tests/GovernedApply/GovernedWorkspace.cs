using System.Security.Cryptography;
using System.Text.Json.Nodes;

using Airlock.Store.Tests;
using Airlock.Testing;

namespace Airlock.Cli.Tests.GovernedApply;

/// <summary>
/// A copy of examples/getting-started in a temp git repository, driven through the real CLI: the
/// command engine deploys real files to target/&lt;env&gt;/site/. Backend "sqlite" uses the
/// workspace's .airlock/airlock.db; "postgresql" a fresh database on the real test server.
/// </summary>
public sealed class GovernedWorkspace : IDisposable
{
    private readonly TempDir _dir = new("airlock-governed");
    private readonly GitHistory _git;
    private readonly Dictionary<string, string?> _environment = new()
    {
        ["AIRLOCK_ACTOR"] = null,
        ["AIRLOCK_DATABASE_URL"] = null,
    };

    private GovernedWorkspace()
    {
        Root = _dir.Path;
        DirectoryCopy.Copy(Path.Combine(RepoPaths.RepoRoot, "examples", "getting-started"), Root);
        _git = new GitHistory(Root);
        Commit("first stack");
    }

    public string Root { get; }

    public static async Task<GovernedWorkspace> CreateAsync(string backend)
    {
        var workspace = new GovernedWorkspace();
        if (backend == "postgresql")
        {
            workspace._environment["AIRLOCK_DATABASE_URL"] = await PostgresServer.CreateDatabaseAsync();
            workspace._environment["AIRLOCK_PLAN_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        }

        return workspace;
    }

    /// <summary>Extra environment for the CLI (and so for the scripts it runs), e.g. SITE_FAIL_AFTER.</summary>
    public void SetVariable(string name, string? value) => _environment[name] = value;

    public Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync(Root, _environment, args);

    /// <summary>Plans and returns the plan id; the plan must succeed.</summary>
    public async Task<string> PlanAsync(string environment, string actor = "alice@example.com")
    {
        var result = await RunAsync("plan", "site", "--env", environment, "--as", actor, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return (string)JsonNode.Parse(result.Stdout)!["plan_id"]!;
    }

    public async Task<JsonObject> ApplyJsonAsync(string planId, string actor, int expectedExit, params string[] extra)
    {
        var result = await RunAsync(["apply", planId, "--as", actor, "--json", .. extra]);
        Assert.True(result.ExitCode == expectedExit, result.ToString());
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    public string TargetFile(string environment, string name) => Path.Combine(Root, "target", environment, "site", name);

    /// <summary>The state serial the scripts keep (0 before the first apply).</summary>
    public long Serial(string environment)
    {
        var state = TargetFile(environment, ".airlock-state");
        if (!File.Exists(state))
        {
            return 0;
        }

        var line = File.ReadAllLines(state).First(l => l.StartsWith("serial=", StringComparison.Ordinal));
        return long.Parse(line["serial=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    public void Commit(string message) => _git.Commit(message);

    /// <summary>Starts the CLI without waiting for it (to signal it, or to run another command meanwhile).</summary>
    public RunningCli Start(params string[] args) => CliRunner.Start(Root, _environment, args);

    public void Dispose() => _dir.Dispose();
}
