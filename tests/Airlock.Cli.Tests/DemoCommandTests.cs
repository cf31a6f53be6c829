using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Airlock.Cli.Tests.Releases;
using Airlock.Testing;

using Microsoft.Data.Sqlite;

namespace Airlock.Cli.Tests;

/// <summary>
/// `airlock demo` as a real process, then its outcome read back from the kept workspace: the store
/// (through the real CLI), the routing configs and databases the stacks made, and the evidence.
/// </summary>
public class DemoCommandTests
{
    private static readonly string[] Approvers = ["bob@example.com", "carol@example.com"];

    [Fact]
    public async Task The_demo_releases_v1_everywhere_then_rolls_back_the_failing_v2_canary_and_its_evidence_verifies()
    {
        // TMPDIR decides where the demo's workspace goes, so this test finds it and removes it. The PATH has
        // every program of the test machine's but sqlite3: the demo needs only the .NET SDK (and git).
        using var temp = new TempDir("airlock-demo-test");
        using var demo = CliRunner.Start(null, new Dictionary<string, string?> { ["TMPDIR"] = temp.Path, ["PATH"] = PathWithout(temp, "sqlite3") }, "demo", "--no-serve", "--keep");
        var result = await demo.WaitForExitAsync(TimeSpan.FromMinutes(5));

        Assert.True(result.ExitCode == 0, result.ToString());
        // Spectre wraps long lines at the terminal width (80 when redirected): compare words, not line breaks.
        var stdout = Regex.Replace(result.Stdout, @"\s+", " ");
        Assert.Contains("Everything went as scripted", stdout, StringComparison.Ordinal);
        Assert.Contains("approved by bob@example.com (team platform)", stdout, StringComparison.Ordinal);
        Assert.Contains("approved by carol@example.com (team security)", stdout, StringComparison.Ordinal);
        Assert.Contains("✗ expected failure: web v2 after the switch to green in prod/eu-west", stdout, StringComparison.Ordinal);
        Assert.Contains("traffic in prod/eu-west stays on blue, which serves v1 (asked over HTTP)", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("not as scripted", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("alk_", result.Stdout + result.Stderr, StringComparison.Ordinal); // token secrets stay in their file
        var workspace = Assert.Single(Directory.GetDirectories(temp.Path, "airlock-demo-*"));
        Assert.Contains("(kept: --keep)", stdout, StringComparison.Ordinal);
        Assert.Contains("&& airlock serve (this run's server stops at exit: --no-serve)", stdout, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(workspace, ".airlock", "demo-tokens")));
        }

        var releases = (await JsonAsync(workspace, "releases"))["releases"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["v1", "v2"], releases.Select(r => (string)r["version"]!).Order());
        var v1 = await JsonAsync(workspace, "release", "show", Id(releases, "v1"));
        var v2 = await JsonAsync(workspace, "release", "show", Id(releases, "v2"));

        // v1: both stacks applied in dev, stage and each prod region, the app live on blue everywhere, canary wave first.
        Assert.Equal(["dev", "stage", "prod"], v1["environments"]!.AsArray().Select(e => (string)e!["name"]!));
        var targets = Targets(v1).ToList();
        Assert.Equal(8, targets.Count);
        Assert.All(targets, t => Assert.Equal("applied", (string?)t["status"]));
        Assert.Equal(["database@eu-west", "database@us-east", "edge@eu-west", "edge@us-east"],
            targets.Where(t => t["region"] is not null).Select(t => $"{t["stack"]}@{t["region"]}").Order());
        Assert.All(Apps(v1), a => Assert.Equal(("live", "blue"), ((string?)a["status"], (string?)a["color"])));
        var prod = Environment(v1, "prod");
        Assert.Equal(["canary", "rest"], prod["waves"]!.AsArray().Select(w => (string)w!["name"]!));
        Assert.Equal("eu-west", (string?)prod["waves"]![0]!["regions"]![0]);

        // Prod plans were approved by bob (platform) and carol (security), for alice who asked.
        foreach (var plan in Environment(v1, "prod")["waves"]!.AsArray().SelectMany(w => w!["targets"]!.AsArray()).Select(t => (string)t!["plan_id"]!))
        {
            var approvals = await JsonAsync(workspace, "approvals", plan);
            Assert.Equal("alice@example.com", (string?)approvals["requester"]);
            Assert.True((bool)approvals["satisfied"]!, approvals.ToJsonString());
            Assert.Equal(Approvers, approvals["decisions"]!.AsArray().Select(d => (string)d!["approver"]!).Order());
        }

        // The databases are real: both migrations applied in every slot.
        foreach (var slot in new[] { "dev", "stage", "prod-eu-west", "prod-us-east" })
        {
            Assert.Equal(2L, Scalar(Path.Combine(workspace, "local", slot, "app.db"), "SELECT count(*) FROM schema_migrations"));
        }

        // v2: application only, live in dev and stage, rolled back at the canary, never reaching us-east.
        Assert.Equal("failed", (string?)v2["status"]);
        Assert.Empty(v2["stacks"]!.AsArray());
        Assert.Empty(Targets(v2));
        var v2Apps = v2["environments"]!.AsArray().SelectMany(e => e!["waves"]!.AsArray().SelectMany(w => w!["apps"]!.AsArray()
            .Select(a => (Where: $"{e["name"]}/{(string?)a!["region"] ?? "-"}", Status: (string?)a["status"])))).ToDictionary(a => a.Where, a => a.Status);
        Assert.Equal("live", v2Apps["dev/-"]);
        Assert.Equal("live", v2Apps["stage/-"]);
        Assert.Equal("rolled_back", v2Apps["prod/eu-west"]);
        Assert.Equal("pending", v2Apps["prod/us-east"]);
        Assert.Contains("switched back to blue", (string?)Apps(v2).Single(a => (string?)a["region"] == "eu-west")["detail"], StringComparison.Ordinal);
        Assert.Equal("live blue", File.ReadAllLines(Path.Combine(workspace, "local", "prod-eu-west", "routes.conf")).Single(l => l.StartsWith("live ", StringComparison.Ordinal)));
        var trace = (await JsonAsync(workspace, "trace", "app:v2"))["deployments"]!.AsArray();
        Assert.Equal(["live", "live", "rolled_back"], trace.Select(d => (string)d!["outcome"]!).Order());

        // No infrastructure was rolled back or touched by v2: the only runs are v1's eight applies.
        var runs = (await JsonAsync(workspace, "runs"))["runs"]!.AsArray();
        Assert.Equal(targets.Select(t => (string)t["run_id"]!).Order(), runs.Select(r => (string)r!["run_id"]!).Order());
        Assert.All(runs, r => Assert.Equal("succeeded", (string?)r!["state"]));

        var verify = await CliRunner.RunAsync(workspace, Clean, "evidence", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("signed checkpoints verified", verify.Stdout, StringComparison.Ordinal);

        // The demo's API tokens are in the chain like any other token: created by "airlock demo", never the secret.
        var tokenList = await CliRunner.RunAsync(workspace, Clean, "token", "list", "--json");
        Assert.True(tokenList.ExitCode == 0, tokenList.ToString());
        var tokens = JsonNode.Parse(tokenList.Stdout)!.AsArray();
        Assert.Equal(3, tokens.Count);
        foreach (var token in tokens)
        {
            var shown = await JsonAsync(workspace, "evidence", "show", (string)token!["id"]!);
            var created = Assert.Single(shown["records"]!.AsArray().Select(r => r!["payload"]!));
            Assert.Equal("token_created by airlock demo", $"{created["type"]} by {created["actor"]}");
            Assert.Equal((string?)token["actor"], (string?)created["detail"]!["token_actor"]);
        }

        // Every sample application the demo started is gone.
        foreach (var pidFile in Directory.EnumerateFiles(Path.Combine(workspace, "local"), "web-*.pid", SearchOption.AllDirectories))
        {
            var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
            Assert.False(IsSampleApp(pid), $"sample app {pid} still runs");
        }
    }

    [Fact]
    public async Task The_demo_serves_the_dashboard_until_interrupted_then_stops_what_it_started_and_removes_its_workspace()
    {
        using var temp = new TempDir("airlock-demo-test");
        using var demo = CliRunner.Start(null, new Dictionary<string, string?> { ["TMPDIR"] = temp.Path, ["PATH"] = PathWithout(temp, "sqlite3") }, "demo");
        await demo.WaitForLineAsync(" until Ctrl+C", TimeSpan.FromMinutes(5));

        var url = Regex.Match(demo.Output, @"Serving (http://127\.0\.0\.1:\d+)/ until Ctrl\+C").Groups[1].Value;
        Assert.True(url.Length > 0, demo.Output);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var health = await http.GetAsync(new Uri($"{url}/healthz"));
            Assert.True(health.IsSuccessStatusCode, $"GET /healthz: {(int)health.StatusCode}");
        }

        // While it serves, the workspace is there and the sample applications run.
        var workspace = Assert.Single(Directory.GetDirectories(temp.Path, "airlock-demo-*"));
        var pids = Directory.EnumerateFiles(Path.Combine(workspace, "local"), "web-*.pid", SearchOption.AllDirectories)
            .Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(pids, IsSampleApp);

        await demo.InterruptAsync();
        var result = await demo.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Everything went as scripted", Regex.Replace(result.Stdout, @"\s+", " "), StringComparison.Ordinal);
        Assert.DoesNotContain("not as scripted", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(workspace), "the workspace outlived the demo without --keep");
        foreach (var pid in pids)
        {
            Assert.False(IsSampleApp(pid), $"sample app {pid} still runs");
        }
    }

    [Fact]
    public async Task Without_keep_the_demo_points_at_nothing_in_the_workspace_it_removes()
    {
        using var temp = new TempDir("airlock-demo-test");
        using var demo = CliRunner.Start(null, new Dictionary<string, string?> { ["TMPDIR"] = temp.Path }, "demo", "--no-serve");
        var result = await demo.WaitForExitAsync(TimeSpan.FromMinutes(5));

        Assert.True(result.ExitCode == 0, result.ToString());
        var whereToLook = Regex.Replace(result.Stdout[result.Stdout.IndexOf("Where to look", StringComparison.Ordinal)..], @"\s+", " ");
        Assert.Contains("--no-serve --keep keeps the workspace", whereToLook, StringComparison.Ordinal);
        Assert.DoesNotContain("airlock-demo-", whereToLook, StringComparison.Ordinal); // no path into the removed workspace
        Assert.DoesNotContain("http://", whereToLook, StringComparison.Ordinal); // nor the stopped server
        Assert.Empty(Directory.GetDirectories(temp.Path, "airlock-demo-*"));
    }

    [Fact]
    public async Task Without_the_sample_app_beside_it_the_demo_says_in_one_line_how_to_run_it_and_creates_nothing()
    {
        // What the single-file build looks like to the demo: airlock without Airlock.SampleApp.dll beside it.
        using var temp = new TempDir("airlock-demo-test");
        var cli = Directory.CreateDirectory(Path.Combine(temp.Path, "cli")).FullName;
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory).Where(f => !Path.GetFileName(f).StartsWith("Airlock.SampleApp.", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(cli, Path.GetFileName(file)));
        }

        var psi = new ProcessStartInfo("dotnet", [Path.Combine(cli, "airlock.dll"), "demo", "--no-serve"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["TMPDIR"] = temp.Path;
        using var airlock = Process.Start(psi)!;
        var stdout = airlock.StandardOutput.ReadToEndAsync();
        var stderr = await airlock.StandardError.ReadToEndAsync();
        await airlock.WaitForExitAsync();

        Assert.True(airlock.ExitCode == 3, $"exit {airlock.ExitCode}\n{await stdout}\n{stderr}");
        Assert.Equal(
            $"airlock: the demo needs the sample application (Airlock.SampleApp.dll) beside airlock, and {cli} has none (the single-file build does not carry it): run the demo from the .NET tool (dotnet tool install -g airlock) or a source checkout (dotnet run --project src/Airlock.Cli -- demo)",
            stderr.Trim());
        Assert.Empty(Directory.GetDirectories(temp.Path, "airlock-demo-*"));
    }

    [Fact]
    public async Task The_local_platform_example_validates_and_every_script_parses()
    {
        var example = Path.Combine(RepoPaths.RepoRoot, "examples", "local-platform");

        var validate = await CliRunner.RunAsync("validate", example);

        Assert.True(validate.ExitCode == 0, validate.ToString());
        Assert.Contains("valid (3 environments, 2 stacks, 1 applications", validate.Stdout, StringComparison.Ordinal);
        var scripts = Directory.GetFiles(example, "*.sh", SearchOption.AllDirectories);
        Assert.True(scripts.Length >= 14, string.Join(", ", scripts));
        foreach (var script in scripts)
        {
            using var sh = Process.Start(new ProcessStartInfo("sh", ["-n", script]) { RedirectStandardError = true })!;
            var error = await sh.StandardError.ReadToEndAsync();
            await sh.WaitForExitAsync();
            Assert.True(sh.ExitCode == 0, $"{script}: {error}");
        }
    }

    // The store of the kept workspace, not whatever the test machine's environment points at.
    private static readonly Dictionary<string, string?> Clean = new() { ["AIRLOCK_DATABASE_URL"] = null, ["AIRLOCK_PLAN_KEY"] = null, ["AIRLOCK_EVIDENCE_KEY"] = null };

    private static async Task<JsonObject> JsonAsync(string workspace, params string[] args)
    {
        var result = await CliRunner.RunAsync(workspace, Clean, [.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private static string Id(List<JsonObject> releases, string version) => (string)releases.Single(r => (string?)r["version"] == version)["id"]!;

    private static JsonObject Environment(JsonObject release, string name) =>
        release["environments"]!.AsArray().Select(e => e!.AsObject()).Single(e => (string?)e["name"] == name);

    private static IEnumerable<JsonObject> Targets(JsonObject release) =>
        ReleaseWorkspace.Targets(release);

    private static IEnumerable<JsonObject> Apps(JsonObject release) =>
        ReleaseWorkspace.Apps(release);

    private static long Scalar(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static bool IsSampleApp(int pid)
    {
        var cmdline = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline";
        try
        {
            return File.Exists(cmdline) && File.ReadAllText(cmdline).Contains("Airlock.SampleApp", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // exited while being read
        }
    }

    // A PATH with every program of this machine's PATH (symbolic links in one directory) except the ones named.
    private static string PathWithout(TempDir temp, params string[] programs)
    {
        var bin = Directory.CreateDirectory(Path.Combine(temp.Path, "bin")).FullName;
        var linked = new HashSet<string>(programs, StringComparer.Ordinal); // the first of a name on the PATH wins, as in a shell
        foreach (var directory in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Where(Directory.Exists))
        {
            foreach (var program in Directory.EnumerateFiles(directory).Where(p => linked.Add(Path.GetFileName(p))))
            {
                File.CreateSymbolicLink(Path.Combine(bin, Path.GetFileName(program)), program);
            }
        }

        Assert.All(programs, p => Assert.False(File.Exists(Path.Combine(bin, p))));
        return bin;
    }
}
