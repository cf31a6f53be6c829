using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Airlock.Cli.Tests.GovernedApply;
using Airlock.Testing;

namespace Airlock.Cli.Tests;

/// <summary>
/// `--server URL` as real processes: `airlock serve` on loopback, and the CLI run from a directory with no
/// workspace (so nothing can come from a local store) with the token in AIRLOCK_TOKEN; output is rendered
/// exactly as from the local store.
/// </summary>
public sealed partial class ServerModeTests
{
    [Fact]
    public async Task The_cli_works_against_the_server_api_as_the_tokens_actor_and_renders_the_same()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        var devPlan = await workspace.PlanAsync("dev");
        var applied = await workspace.ApplyJsonAsync(devPlan, "alice@example.com", 0);
        var runId = (string)applied["run_id"]!;
        var planId = await workspace.PlanAsync("prod");
        var bob = await TokenAsync(workspace, "bob@example.com");
        var carol = await TokenAsync(workspace, "carol@example.com");

        using var served = CliRunner.Start(workspace.Root, null, "serve", "--urls", "http://127.0.0.1:0");
        var url = await ListeningUrlAsync(served);
        using var elsewhere = new TempDir("airlock-no-workspace");
        Task<CliResult> Remote(string? token, params string[] args) => RemoteAsync(elsewhere, url, token, args);

        var noToken = await Remote(null, "runs");
        Assert.Equal(2, noToken.ExitCode);
        Assert.Equal("airlock: --server needs an API token in AIRLOCK_TOKEN (airlock token create --actor YOU on the server)", noToken.Stderr.Trim());
        var badToken = await Remote("alk_not-a-token", "runs");
        Assert.Equal(2, badToken.ExitCode);
        Assert.Contains("did not accept the token in AIRLOCK_TOKEN", badToken.Stderr, StringComparison.Ordinal);
        Assert.Single(badToken.Stderr.Trim().Split('\n'));

        // Same rendering as the local store.
        var remoteShow = await Remote(bob, "run", "show", runId, "--json");
        Assert.True(remoteShow.ExitCode == 0, remoteShow.ToString());
        Assert.Equal((await workspace.RunAsync("run", "show", runId, "--json")).Stdout, remoteShow.Stdout);
        Assert.Equal((await workspace.RunAsync("run", "show", runId)).Stdout, (await Remote(bob, "run", "show", runId)).Stdout);
        var runs = JsonNode.Parse((await Remote(bob, "runs", "--json", "--env", "dev")).Stdout)!["runs"]!.AsArray();
        Assert.Equal(runId, (string?)runs.Single()!["run_id"]);
        Assert.Contains(runId, (await Remote(bob, "runs")).Stdout, StringComparison.Ordinal);
        var unknownRun = await Remote(bob, "run", "show", "run-nope");
        Assert.Equal(2, unknownRun.ExitCode);
        Assert.Equal("airlock: unknown run 'run-nope' (airlock runs lists them)", unknownRun.Stderr.Trim());
        Assert.Equal("No locks held.", (await Remote(bob, "locks")).Stdout.Trim());
        Assert.Equal("All queues are empty.", (await Remote(bob, "queue")).Stdout.Trim());
        Assert.Empty(JsonNode.Parse((await Remote(bob, "locks", "--json")).Stdout)!["locks"]!.AsArray());

        var none = await Remote(bob, "approvals", planId);
        Assert.Equal(3, none.ExitCode);
        Assert.Equal((await workspace.RunAsync("approvals", planId)).Stdout, none.Stdout);

        var withAs = await Remote(bob, "approve", planId, "--as", "carol@example.com");
        Assert.Equal(2, withAs.ExitCode);
        var approved = await Remote(bob, "approve", planId);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.StartsWith($"Approved plan {planId} as bob@example.com (valid until ", approved.Stdout, StringComparison.Ordinal);
        var again = await Remote(bob, "approvals", planId, "--json");
        Assert.Equal("bob@example.com", (string?)JsonNode.Parse(again.Stdout)!["decisions"]![0]!["approver"]);

        var selfReject = await Remote(await TokenAsync(workspace, "alice@example.com"), "approve", planId, "--reject", "--reason", "mine");
        Assert.Equal(3, selfReject.ExitCode);
        Assert.Equal("airlock: refused: alice@example.com requested this plan and cannot approve it (separation of duties)", selfReject.Stderr.Trim());

        var rejected = await Remote(carol, "approve", planId, "--reject", "--reason", "wrong bucket");
        Assert.True(rejected.ExitCode == 0, rejected.ToString());
        Assert.Equal($"Rejected plan {planId} as carol@example.com: wrong bucket", rejected.Stdout.Split('\n')[0]);
        var after = await Remote(carol, "approvals", planId);
        Assert.Equal(3, after.ExitCode);
        Assert.Contains("rejected by carol@example.com: wrong bucket", after.Stdout, StringComparison.Ordinal);
        Assert.Equal((await workspace.RunAsync("approvals", planId)).Stdout, after.Stdout);
        var unknownPlan = await Remote(carol, "approvals", "plan-nope");
        Assert.Equal(2, unknownPlan.ExitCode);
        Assert.StartsWith("airlock: unknown plan 'plan-nope'", unknownPlan.Stderr, StringComparison.Ordinal);

        await served.InterruptAsync();
        Assert.Equal(0, (await served.WaitForExitAsync()).ExitCode);
    }

    [Fact]
    public async Task Apply_freeze_break_glass_and_evidence_run_against_the_server_with_the_local_exit_codes_and_output()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        var local = await workspace.RunAsync("apply", await workspace.PlanAsync("dev"), "--as", "alice@example.com", "--json");
        Assert.True(local.ExitCode == 0, local.ToString());
        var localJson = JsonNode.Parse(local.Stdout)!.AsObject();
        var alice = await TokenAsync(workspace, "alice@example.com");
        var bob = await TokenAsync(workspace, "bob@example.com");
        var erin = await TokenAsync(workspace, "erin@example.com");

        using var served = CliRunner.Start(workspace.Root, null, "serve", "--urls", "http://127.0.0.1:0");
        var url = await ListeningUrlAsync(served);
        using var elsewhere = new TempDir("airlock-no-workspace");
        Task<CliResult> Remote(string? token, params string[] args) => RemoteAsync(elsewhere, url, token, args);

        // apply --json: the log on stderr as the local apply prints it (same transitions), the same outcome keys on stdout.
        var remote = await Remote(alice, "apply", await workspace.PlanAsync("dev"), "--json");
        Assert.True(remote.ExitCode == 0, remote.ToString());
        var remoteJson = JsonNode.Parse(remote.Stdout)!.AsObject();
        Assert.Equal(localJson.Select(p => p.Key), remoteJson.Select(p => p.Key));
        Assert.Equal("succeeded", (string?)remoteJson["state"]);
        Assert.Equal(0, (int)remoteJson["exit_code"]!);
        Assert.Equal(localJson["verification"]!.AsArray().Count, remoteJson["verification"]!.AsArray().Count);
        Assert.Equal((string?)localJson["policy"]!["decision"], (string?)remoteJson["policy"]!["decision"]);
        Assert.NotNull((long?)remoteJson["serial_before"]);
        Assert.Equal(Transitions(local.Stderr), Transitions(remote.Stderr));
        var remoteRun = (string)remoteJson["run_id"]!;
        Assert.Equal((long?)remoteJson["evidence_sequence"], (long?)JsonNode.Parse((await workspace.RunAsync("run", "show", remoteRun, "--json")).Stdout)!["evidence_sequence"]);

        // A refusal (prod needs two approvals) is exit 3, as locally; the human rendering is the local one.
        var unapproved = await workspace.PlanAsync("prod");
        var refused = await Remote(alice, "apply", unapproved);
        Assert.True(refused.ExitCode == 3, refused.ToString());
        Assert.Contains("\n✖ refused: ", refused.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"\nrun run-\S+ · evidence #\d+ · airlock run show run-\S+\n", refused.Stdout);
        Assert.Contains("▸ validating", refused.Stdout, StringComparison.Ordinal);
        var unknown = await Remote(alice, "apply", "plan-nope");
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("airlock: unknown plan 'plan-nope'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Single(unknown.Stderr.Trim().Split('\n'));
        var withAs = await Remote(alice, "apply", unapproved, "--as", "bob@example.com");
        Assert.Equal(2, withAs.ExitCode);
        var unreachable = await CliRunner.RunAsync(elsewhere.Path, new Dictionary<string, string?> { ["AIRLOCK_TOKEN"] = alice }, "apply", unapproved, "--server", "http://127.0.0.1:1");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith("airlock: cannot reach the server at http://127.0.0.1:1/", unreachable.Stderr, StringComparison.Ordinal);
        Assert.Single(unreachable.Stderr.Trim().Split('\n'));

        // freeze start / list / stop as the token's actor; break-glass through the API's break_glass body.
        var frozen = await Remote(bob, "freeze", "start", "--env", "prod", "--reason", "SEV1 payments outage");
        Assert.True(frozen.ExitCode == 0, frozen.ToString());
        Assert.Equal("prod is frozen (by bob@example.com: SEV1 payments outage). Lift it with: airlock freeze stop --env prod", frozen.Stdout.Trim());
        Assert.Equal(3, (await Remote(bob, "freeze", "start", "--env", "prod", "--reason", "again")).ExitCode);
        Assert.Equal((await workspace.RunAsync("freeze", "list")).Stdout, (await Remote(bob, "freeze", "list")).Stdout);
        Assert.Equal((await workspace.RunAsync("freeze", "list", "--json")).Stdout, (await Remote(bob, "freeze", "list", "--json")).Stdout);
        var emergency = await workspace.PlanAsync("prod");
        var granted = await Remote(erin, "approve", emergency, "--break-glass", "--incident", "INC-7", "--reason", "restore payments");
        Assert.True(granted.ExitCode == 0, granted.ToString());
        var incomplete = await Remote(alice, "apply", emergency, "--break-glass", "--reason", "hotfix");
        Assert.Equal(2, incomplete.ExitCode);
        var breakGlass = await Remote(alice, "apply", emergency, "--break-glass", "--incident", "INC-7", "--reason", "hotfix for INC-7", "--json");
        Assert.True(breakGlass.ExitCode == 0, breakGlass.ToString());
        Assert.Contains(JsonNode.Parse(breakGlass.Stdout)!["policy"]!["rules"]!.AsArray(), r => (string)r!["id"]! == "break-glass" && (string)r["result"]! == "warn");
        Assert.True(File.Exists(workspace.TargetFile("prod", "index.html")));
        var lifted = await Remote(bob, "freeze", "stop", "--env", "prod");
        Assert.True(lifted.ExitCode == 0, lifted.ToString());
        Assert.StartsWith("prod is no longer frozen (freeze by bob@example.com since ", lifted.Stdout, StringComparison.Ordinal);

        // evidence list / show / verify / export read the server's chain and print what the local store prints.
        Assert.Equal((await workspace.RunAsync("evidence", "list")).Stdout, (await Remote(bob, "evidence", "list")).Stdout);
        Assert.Equal((await workspace.RunAsync("evidence", "list", "--json", "--env", "prod")).Stdout, (await Remote(bob, "evidence", "list", "--json", "--env", "prod")).Stdout);
        var breakGlassRun = (string)JsonNode.Parse(breakGlass.Stdout)!["run_id"]!;
        Assert.Equal((await workspace.RunAsync("evidence", "show", breakGlassRun)).Stdout, (await Remote(bob, "evidence", "show", breakGlassRun)).Stdout);
        var shown = await Remote(bob, "evidence", "show", breakGlassRun, "--json");
        Assert.Equal((await workspace.RunAsync("evidence", "show", breakGlassRun, "--json")).Stdout, shown.Stdout);
        Assert.Contains("INC-7", shown.Stdout, StringComparison.Ordinal);
        var verified = await Remote(bob, "evidence", "verify");
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.StartsWith("OK: ", verified.Stdout, StringComparison.Ordinal);
        var remoteVerify = JsonNode.Parse((await Remote(bob, "evidence", "verify", "--json")).Stdout)!.AsObject();
        var localVerify = JsonNode.Parse((await workspace.RunAsync("evidence", "verify", "--json")).Stdout)!.AsObject();
        Assert.Equal($"the server at {url}/", (string?)remoteVerify["source"]);
        Assert.Equal(localVerify.Select(p => p.Key), remoteVerify.Select(p => p.Key));
        Assert.True((bool)remoteVerify["ok"]!);
        Assert.Equal((long)localVerify["last_sequence"]!, (long)remoteVerify["last_sequence"]!);
        Assert.Equal(2, (await Remote(bob, "evidence", "verify", "--file", "x.ndjson")).ExitCode);

        var exportFile = Path.Combine(elsewhere.Path, "evidence.ndjson");
        var exported = await Remote(bob, "evidence", "export", "--output", exportFile);
        Assert.True(exported.ExitCode == 0, exported.ToString());
        var records = File.ReadLines(exportFile).Count(l => l.StartsWith("{\"type\":\"record\"", StringComparison.Ordinal));
        Assert.True(records > 10, exported.ToString());
        Assert.Equal($"exported {records} records to {exportFile}", exported.Stderr.Trim());
        var keyFile = Path.Combine(elsewhere.Path, "key.pem");
        File.WriteAllText(keyFile, (await workspace.RunAsync("evidence", "public-key")).Stdout);
        var offline = await CliRunner.RunAsync(elsewhere.Path, (IDictionary<string, string?>?)null, "evidence", "verify", "--file", exportFile, "--public-key", keyFile);
        Assert.True(offline.ExitCode == 0, offline.ToString());
        Assert.Equal(2, (await Remote(bob, "evidence", "export", "--since", "1h")).ExitCode);

        // cancel: refused once the run ended (exit 3), unknown run (exit 2).
        var ended = await Remote(alice, "cancel", remoteRun, "--reason", "too late");
        Assert.Equal(3, ended.ExitCode);
        Assert.Equal($"airlock: refused: run {remoteRun} already ended (succeeded)", ended.Stderr.Trim());
        var noRun = await Remote(alice, "cancel", "run-nope");
        Assert.Equal(2, noRun.ExitCode);
        Assert.Equal("airlock: unknown run 'run-nope' (airlock runs lists them)", noRun.Stderr.Trim());

        await served.InterruptAsync();
        Assert.Equal(0, (await served.WaitForExitAsync()).ExitCode);
    }

    [Fact]
    public async Task A_running_server_apply_is_followed_cancelled_detached_from_and_force_unlocked_through_the_cli()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        workspace.Write("airlock.yaml", workspace.Read("airlock.yaml") + "\nlocks:\n  admins: [security]\n");
        workspace.Commit("carol's team may force-unlock");
        var alice = await TokenAsync(workspace, "alice@example.com");
        var bob = await TokenAsync(workspace, "bob@example.com");
        var carol = await TokenAsync(workspace, "carol@example.com");
        workspace.SetVariable("SITE_APPLY_DELAY", "30");
        using var served = workspace.Start("serve", "--urls", "http://127.0.0.1:0");
        workspace.SetVariable("SITE_APPLY_DELAY", null);
        var url = await ListeningUrlAsync(served);
        using var elsewhere = new TempDir("airlock-no-workspace");
        var environment = (string? token) => new Dictionary<string, string?> { ["AIRLOCK_TOKEN"] = token, ["AIRLOCK_ACTOR"] = null };
        Task<CliResult> Remote(string? token, params string[] args) => CliRunner.RunAsync(elsewhere.Path, environment(token), [.. args, "--server", url]);

        // The log is followed live (the tool's own lines included); `cancel --server` stops the run: exit 130 as locally.
        using (var following = CliRunner.Start(elsewhere.Path, environment(alice), "apply", await workspace.PlanAsync("dev"), "--server", url))
        {
            await following.WaitForLineAsync("  │ site: waiting");
            var runId = RunIdOf().Match(following.Output).Groups[1].Value;
            var cancel = await Remote(alice, "cancel", runId, "--reason", "wrong change");
            Assert.True(cancel.ExitCode == 0, cancel.ToString());
            Assert.Equal($"Cancel of {runId} requested by alice@example.com (wrong change); the run stops gracefully and records how it ended (airlock run show {runId}).", cancel.Stdout.Trim());
            var cancelled = await following.WaitForExitAsync();
            Assert.True(cancelled.ExitCode == 130, cancelled.ToString());
            Assert.Contains("\n■ cancelled: cancelled by alice@example.com", cancelled.Stdout, StringComparison.Ordinal);
            Assert.Contains("▸ applying", cancelled.Stdout, StringComparison.Ordinal);
        }

        // Ctrl+C only stops following: the apply goes on, holding its lock, until an administrator force-unlocks it.
        using var detached = CliRunner.Start(elsewhere.Path, environment(alice), "apply", await workspace.PlanAsync("dev"), "--server", url);
        await detached.WaitForLineAsync("  │ site: waiting");
        var held = RunIdOf().Match(detached.Output).Groups[1].Value;
        await detached.InterruptAsync();
        var stopped = await detached.WaitForExitAsync();
        Assert.True(stopped.ExitCode == 130, stopped.ToString());
        Assert.StartsWith($"airlock: stopped following run {held}; the apply goes on on the server", stopped.Stderr, StringComparison.Ordinal);
        Assert.Equal("applying", (string?)JsonNode.Parse((await Remote(bob, "run", "show", held, "--json")).Stdout)!["state"]);

        const string Key = "stack:getting-started/dev/default/default/site";
        Assert.Contains(JsonNode.Parse((await Remote(bob, "locks", "--json")).Stdout)!["locks"]!.AsArray(), l => (string?)l!["key"] == Key && (string?)l["run_id"] == held);
        var notAdmin = await Remote(bob, "unlock", Key, "--reason", "looks stuck");
        Assert.Equal(3, notAdmin.ExitCode);
        Assert.Single(notAdmin.Stderr.Trim().Split('\n'));
        var unlocked = await Remote(carol, "unlock", Key, "--reason", "looks stuck");
        Assert.True(unlocked.ExitCode == 0, unlocked.ToString());
        Assert.Matches($@"^unlocked {Key} \(was held by run {held}, alice@example\.com, token \d+\); run {held} is marked NeedsReconciliation$", unlocked.Stdout.Trim());
        Assert.Equal("needs_reconciliation", (string?)JsonNode.Parse((await Remote(bob, "run", "show", held, "--json")).Stdout)!["state"]);
        var noLock = await Remote(carol, "unlock", Key, "--reason", "again");
        Assert.Equal(2, noLock.ExitCode);

        await served.InterruptAsync();
        Assert.Equal(0, (await served.WaitForExitAsync()).ExitCode);
    }

    [Fact]
    public async Task Releases_release_show_and_trace_read_the_servers_store_and_print_what_the_local_store_prints()
    {
        using var workspace = await Releases.ReleaseWorkspace.CreateAsync();
        var (exit, v1, _) = await workspace.ReleaseJsonAsync("release", "v1", "--all", "--through", "dev", "--no-wait");
        Assert.Equal(0, exit);
        var releaseId = (string)v1["id"]!;
        var created = await workspace.RunAsync("token", "create", "--actor", "bob@example.com", "--as", "admin@example.com", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var bob = (string)JsonNode.Parse(created.Stdout)!["secret"]!;

        using var served = workspace.Start("serve", "--urls", "http://127.0.0.1:0", "--workers", "0");
        var url = await ListeningUrlAsync(served);
        using var elsewhere = new TempDir("airlock-no-workspace");
        Task<CliResult> Remote(params string[] args) =>
            CliRunner.RunAsync(elsewhere.Path, new Dictionary<string, string?> { ["AIRLOCK_TOKEN"] = bob, ["AIRLOCK_ACTOR"] = null }, [.. args, "--server", url]);
        async Task Same(params string[] args)
        {
            var (here, there) = (await workspace.RunAsync(args), await Remote(args));
            Assert.True(there.ExitCode == 0, there.ToString());
            Assert.Equal(here.Stdout, there.Stdout);
        }

        await Same("release", "show", releaseId);
        await Same("release", "show", releaseId, "--json");
        await Same("releases", "--json");
        await Same("trace", "app:v1");
        await Same("trace", "app:v1", "--json");
        await Same("trace", "app:v9");
        var list = await Remote("releases");
        Assert.Equal(Aged().Replace((await workspace.RunAsync("releases")).Stdout, "AGE"), Aged().Replace(list.Stdout, "AGE"));
        Assert.Contains(releaseId, list.Stdout, StringComparison.Ordinal);
        Assert.Contains("app:v1-infra:", (await Remote("trace", "app:v1")).Stdout, StringComparison.Ordinal);

        var unknown = await Remote("release", "show", "rel-nope");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("airlock: unknown release 'rel-nope' (airlock releases lists them)", unknown.Stderr.Trim());
        Assert.Equal((await workspace.RunAsync("release", "show", "rel-nope")).Stderr, unknown.Stderr);

        await served.InterruptAsync();
        Assert.Equal(0, (await served.WaitForExitAsync()).ExitCode);
    }

    [Fact]
    public async Task Plan_against_the_server_plans_its_repository_as_the_tokens_actor_and_prints_what_a_local_plan_prints()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        var local = await workspace.RunAsync("plan", "site", "--env", "prod", "--as", "alice@example.com", "--json");
        Assert.True(local.ExitCode == 0, local.ToString());
        var localJson = JsonNode.Parse(local.Stdout)!.AsObject();
        var localText = await workspace.RunAsync("plan", "site", "--env", "prod", "--as", "alice@example.com");
        var bob = await TokenAsync(workspace, "bob@example.com");

        using var served = CliRunner.Start(workspace.Root, null, "serve", "--urls", "http://127.0.0.1:0");
        var url = await ListeningUrlAsync(served);
        using var elsewhere = new TempDir("airlock-no-workspace");
        Task<CliResult> Remote(string? token, params string[] args) => RemoteAsync(elsewhere, url, token, args);

        var remote = await Remote(bob, "plan", "site", "--env", "prod", "--json");
        Assert.True(remote.ExitCode == 0, remote.ToString());
        var remoteJson = JsonNode.Parse(remote.Stdout)!.AsObject();
        Assert.Equal(localJson.Select(p => p.Key), remoteJson.Select(p => p.Key));
        Assert.Equal("bob@example.com", (string?)remoteJson["requester"]);
        Assert.Equal((string?)localJson["commit"], (string?)remoteJson["commit"]);
        Assert.Equal(localJson["summary"]!["counts"]!.ToJsonString(), remoteJson["summary"]!["counts"]!.ToJsonString());
        Assert.Equal((string?)localJson["policy"]!["decision"], (string?)remoteJson["policy"]!["decision"]);
        Assert.StartsWith("sha256:", (string?)remoteJson["policy"]!["digest"], StringComparison.Ordinal);
        var planId = (string)remoteJson["plan_id"]!;

        // The server lists it as its newest plan.
        using (var http = new HttpClient { BaseAddress = new Uri(url + "/") })
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bob);
            var listed = JsonNode.Parse(await http.GetStringAsync("api/plans?stack=site&env=prod"))!;
            Assert.Equal(planId, (string?)listed["plans"]![0]!["plan_id"]);
            Assert.Equal("bob@example.com", (string?)listed["plans"]![0]!["requester"]);
        }

        // The human rendering is the local one (without the tool's own output, which stays on the server).
        var text = await Remote(bob, "plan", "site", "--env", "prod", "--commit", (string)localJson["commit"]!);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Equal(Normalized(localText.Stdout), Normalized(text.Stdout));
        Assert.Contains($"Next: airlock approve ", text.Stdout, StringComparison.Ordinal);

        var unknown = await Remote(bob, "plan", "site", "--env", "prod", "--commit", "no-such-branch");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("airlock: unknown commit 'no-such-branch' in the server's workspace repository", unknown.Stderr.Trim());
        var withAs = await Remote(bob, "plan", "site", "--env", "prod", "--as", "carol@example.com");
        Assert.Equal(2, withAs.ExitCode);
        var commitLocally = await workspace.RunAsync("plan", "site", "--env", "prod", "--commit", "HEAD", "--as", "alice@example.com");
        Assert.Equal(2, commitLocally.ExitCode);
        Assert.Equal("airlock: --commit needs --server: a local plan is of the current checkout (check out the commit instead)", commitLocally.Stderr.Trim());

        await served.InterruptAsync();
        Assert.Equal(0, (await served.WaitForExitAsync()).ExitCode);

        // Plan ids, digests and expiry differ between two plans; the tool's streamed lines exist only locally.
        static string Normalized(string output) => string.Join('\n', output.Split('\n')
            .Where(l => !l.StartsWith("  │ ", StringComparison.Ordinal))
            .Select(l => PlanIds().Replace(l, "plan-X"))
            .Select(l => l.StartsWith("  digest ", StringComparison.Ordinal) || l.StartsWith("  expires ", StringComparison.Ordinal) ? l[..9] : l));
    }

    // The states of "▸ state detail" lines, in order.
    private static List<string> Transitions(string output) =>
        [.. output.Split('\n').Where(l => l.StartsWith("▸ ", StringComparison.Ordinal)).Select(l => l[2..].Split(' ')[0])];

    private static async Task<string> TokenAsync(GovernedWorkspace workspace, string actor)
    {
        var created = await workspace.RunAsync("token", "create", "--actor", actor, "--as", "admin@example.com", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        return (string)JsonNode.Parse(created.Stdout)!["secret"]!;
    }

    // The served replica's URL, once `airlock serve` says it listens.
    private static async Task<string> ListeningUrlAsync(RunningCli served)
    {
        await served.WaitForLineAsync("airlock serve: listening on");
        return ListeningOn().Match(served.Output).Groups[1].Value;
    }

    // The CLI as a user without the workspace or store runs it: from another directory, with only a token and --server.
    private static Task<CliResult> RemoteAsync(TempDir elsewhere, string url, string? token, string[] args) =>
        CliRunner.RunAsync(elsewhere.Path, new Dictionary<string, string?> { ["AIRLOCK_TOKEN"] = token, ["AIRLOCK_ACTOR"] = null }, [.. args, "--server", url]);

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();

    [GeneratedRegex(@"(?<= )\d+(d\d+h|h\d+m|m\d+s|s)(?= )")]
    private static partial Regex Aged();

    [GeneratedRegex(@"plan-[0-9A-Za-z_-]+")]
    private static partial Regex PlanIds();

    [GeneratedRegex(@"as run (run-\S+); a server worker runs it")]
    private static partial Regex RunIdOf();
}
