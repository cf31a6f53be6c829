using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

using Airlock.Store.Tests;
using Airlock.Testing;

namespace Airlock.Cli.Tests.Releases;

/// <summary>
/// A copy of Releases/Workspace in a temp git repository, driven through the real CLI: four
/// command-engine stacks over local files and the real sample HTTP application, started by the
/// deploy scripts on loopback ports listed in world/ports. Every application process started is
/// killed on dispose.
/// </summary>
public sealed class ReleaseWorkspace : IDisposable
{
    /// <summary>Environment/region slots the application can run in (region "_" = none).</summary>
    public static readonly (string Environment, string Region)[] Slots = [("dev", "_"), ("stage", "_"), ("prod", "r1"), ("prod", "r2"), ("prod", "r3")];

    private readonly TempDir _dir = new("airlock-release");
    private readonly GitHistory _git;
    private readonly Dictionary<string, string?> _environment;

    private ReleaseWorkspace(Func<string, string>? configure)
    {
        Root = _dir.Path;
        DirectoryCopy.Copy(Path.Combine(RepoPaths.RepoRoot, "tests", "Airlock.Cli.Tests", "Releases", "Workspace"), Root);
        File.Move(Path.Combine(Root, "gitignore"), Path.Combine(Root, ".gitignore"));
        if (configure is not null)
        {
            File.WriteAllText(Path.Combine(Root, "airlock.yaml"), configure(File.ReadAllText(Path.Combine(Root, "airlock.yaml"))));
        }

        Directory.CreateDirectory(Path.Combine(Root, "world"));
        File.WriteAllLines(Path.Combine(Root, "world", "ports"), Slots.SelectMany(s => new[] { "blue", "green" }.Select(c => $"{s.Environment} {s.Region} {c} {FreePort()}")));
        _environment = new Dictionary<string, string?>
        {
            ["AIRLOCK_ACTOR"] = "bob@example.com",
            ["AIRLOCK_DATABASE_URL"] = null,
            ["SAMPLE_APP_DIR"] = SampleApp.BuildDirectory,
            ["RELEASE_WORLD"] = Path.Combine(Root, "world"),
        };
        _git = new GitHistory(Root);
        _git.Commit("release workspace");
    }

    public string Root { get; }

    /// <summary>Who approves awaiting plans in <see cref="ReleaseApprovingAsync"/> (never bob, who starts releases).</summary>
    public IReadOnlyList<string> Approvers { get; set; } = ["alice@example.com", "carol@example.com"];

    public static async Task<ReleaseWorkspace> CreateAsync(string backend = "sqlite", Func<string, string>? configure = null)
    {
        var workspace = new ReleaseWorkspace(configure);
        if (backend == "postgresql")
        {
            workspace._environment["AIRLOCK_DATABASE_URL"] = await PostgresServer.CreateDatabaseAsync();
            workspace._environment["AIRLOCK_PLAN_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        }

        return workspace;
    }

    public void SetVariable(string name, string? value) => _environment[name] = value;

    public Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync(Root, _environment, args);

    public RunningCli Start(params string[] args) => CliRunner.Start(Root, _environment, args);

    public string Commit(string message) => _git.Commit(message);

    public void Write(string relativePath, string content) => _git.Write(relativePath, content);

    /// <summary>Runs a release command with --json and returns the exit code and the release document.</summary>
    public async Task<(int ExitCode, JsonObject Release, CliResult Raw)> ReleaseJsonAsync(params string[] args)
    {
        var result = await RunAsync([.. args, "--json"]);
        Assert.True(result.Stdout.TrimStart().StartsWith('{'), result.ToString());
        return (result.ExitCode, JsonNode.Parse(result.Stdout)!.AsObject(), result);
    }

    /// <summary>
    /// Drives a release to its end: each time it waits for approvals, the awaiting plans are approved by
    /// <see cref="Approvers"/> (alice of platform and carol of security unless set) — never by bob, who started it — and it is resumed.
    /// </summary>
    public async Task<(int ExitCode, JsonObject Release, int Pauses)> ReleaseApprovingAsync(params string[] args)
    {
        var (exit, release, raw) = await ReleaseJsonAsync([.. args, "--no-wait"]);
        var pauses = 0;
        while (exit == 4)
        {
            Assert.True(++pauses <= 8, "the release kept waiting: " + raw);
            var awaiting = Targets(release).Where(t => (string?)t["status"] == "awaiting_approval").Select(t => (string)t["plan_id"]!).ToList();
            Assert.NotEmpty(awaiting);
            foreach (var plan in awaiting)
            {
                foreach (var approver in Approvers)
                {
                    var approved = await RunAsync("approve", plan, "--as", approver);
                    Assert.True(approved.ExitCode == 0, approved.ToString());
                }
            }

            (exit, release, raw) = await ReleaseJsonAsync("release", "resume", (string)release["id"]!, "--no-wait");
        }

        return (exit, release, pauses);
    }

    public static IEnumerable<JsonObject> Targets(JsonObject release) =>
        release["environments"]!.AsArray().SelectMany(e => e!["waves"]!.AsArray()).SelectMany(w => w!["targets"]!.AsArray()).Select(t => t!.AsObject());

    public static IEnumerable<JsonObject> Apps(JsonObject release) =>
        release["environments"]!.AsArray().SelectMany(e => e!["waves"]!.AsArray().SelectMany(w => w!["apps"]!.AsArray().Select(a => a!.AsObject())));

    public static JsonObject Environment(JsonObject release, string name) =>
        release["environments"]!.AsArray().Select(e => e!.AsObject()).Single(e => (string?)e["name"] == name);

    /// <summary>world/apply.log: one (env, region, stack) per apply that changed something.</summary>
    public IReadOnlyList<(string Environment, string Region, string Stack)> Applies()
    {
        var path = Path.Combine(Root, "world", "apply.log");
        return File.Exists(path)
            ? [.. File.ReadAllLines(path).Select(l => l.Split(' ')).Select(p => (p[0], p[1], p[2]))]
            : [];
    }

    public int Builds() => File.Exists(Path.Combine(Root, "world", "build.log")) ? File.ReadAllLines(Path.Combine(Root, "world", "build.log")).Length : 0;

    /// <summary>The colour the router sends traffic to in a slot, or null.</summary>
    public string? LiveColor(string environment, string region)
    {
        var path = Path.Combine(Root, "world", environment, region, "live");
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    public int Port(string environment, string region, string color) =>
        int.Parse(File.ReadAllLines(Path.Combine(Root, "world", "ports")).Select(l => l.Split(' ')).Single(p => p[0] == environment && p[1] == region && p[2] == color)[3], CultureInfo.InvariantCulture);

    /// <summary>GET /version of the application in a slot and colour; null when nothing answers.</summary>
    public async Task<string?> VersionServedAsync(string environment, string region, string color)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return (await http.GetStringAsync($"http://127.0.0.1:{Port(environment, region, color)}/version")).Trim();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var pidFile in Directory.Exists(Path.Combine(Root, "world")) ? Directory.EnumerateFiles(Path.Combine(Root, "world"), "*.pid", SearchOption.AllDirectories) : [])
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
            {
                SampleAppProcesses.KillIfOurs(pid, Root);
            }
        }

        _git.Dispose();
        _dir.Dispose();
    }

    private static int FreePort() => LoopbackPorts.Reserve();
}

/// <summary>The sample application (samples/Airlock.SampleApp) is a project reference: its build lands beside the tests.</summary>
public static class SampleApp
{
    public static string BuildDirectory
    {
        get
        {
            var directory = AppContext.BaseDirectory;
            Assert.True(File.Exists(Path.Combine(directory, "Airlock.SampleApp.dll")), $"the sample app is not built into {directory}");
            return directory;
        }
    }
}
