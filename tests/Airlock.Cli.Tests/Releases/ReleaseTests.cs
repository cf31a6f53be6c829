using System.Text.Json.Nodes;

namespace Airlock.Cli.Tests.Releases;

/// <summary>
/// `airlock release` end to end through the real CLI: command-engine stacks over local files, the
/// real sample HTTP application deployed blue-green on loopback ports, the real store and evidence.
/// </summary>
public class ReleaseTests
{
    private static readonly string[] Stacks = ["network", "database", "cache", "cdn"];

    [Fact]
    public async Task A_release_goes_through_three_environments_and_two_prod_waves_then_a_failing_canary_stops_the_later_waves()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync();

        var (exit, v1, pauses) = await workspace.ReleaseApprovingAsync("release", "v1", "--all");

        Assert.True(exit == 0, v1.ToJsonString());
        Assert.Equal("succeeded", (string?)v1["status"]);
        Assert.True(pauses >= 1, "prod needs two approvals, so the release must have waited for them");
        // Every stack applied exactly once in dev, stage and each of the three prod regions; the app built once.
        var applies = workspace.Applies();
        Assert.Equal(4 * 5, applies.Count);
        foreach (var (environment, region) in ReleaseWorkspace.Slots)
        {
            Assert.Equal(Stacks.Order(), applies.Where(a => a.Environment == environment && a.Region == region).Select(a => a.Stack).Order());
            Assert.Equal("blue", workspace.LiveColor(environment, region));
            Assert.Equal("v1", await workspace.VersionServedAsync(environment, region, "blue"));
        }

        Assert.Equal(1, workspace.Builds());
        // Dependency order inside every region: network before database and cache, cache before cdn.
        foreach (var slot in applies.GroupBy(a => (a.Environment, a.Region)))
        {
            var order = slot.Select(a => a.Stack).ToList();
            Assert.True(order.IndexOf("network") < order.IndexOf("database") && order.IndexOf("network") < order.IndexOf("cache") && order.IndexOf("cache") < order.IndexOf("cdn"), string.Join(",", order));
        }

        // The canary wave finished (and baked) before the later wave started.
        var prod = ReleaseWorkspace.Environment(v1, "prod");
        Assert.Equal(["canary", "rest"], prod["waves"]!.AsArray().Select(w => (string)w!["name"]!));
        var timeline = v1["timeline"]!.AsArray().Select(t => (string)t!["message"]!).ToList();
        Assert.True(timeline.FindIndex(m => m.Contains("wave canary passed", StringComparison.Ordinal)) < timeline.FindIndex(m => m.Contains("applying network@r2", StringComparison.Ordinal)), string.Join("\n", timeline));

        // v2 breaks in the canary region: the canary fails, later waves never see v2, infrastructure is untouched.
        workspace.Write("app/CHANGES", "v2: new landing page\n");
        workspace.Commit("web v2");
        workspace.SetVariable("WEB_UNHEALTHY", "v2@r1");
        var (exit2, v2, _) = await workspace.ReleaseJsonAsync("release", "v2", "--no-wait", "--skip-canary-wait", "--ticket", "CHG-7");

        Assert.True(exit2 == 1, v2.ToJsonString());
        Assert.Equal("failed", (string?)v2["status"]);
        Assert.Empty(v2["stacks"]!.AsArray()); // only the application changed
        Assert.Equal(20, workspace.Applies().Count);
        Assert.Equal("v2", await workspace.VersionServedAsync("dev", "_", "green"));
        Assert.Equal("green", workspace.LiveColor("stage", "_"));
        Assert.Equal("blue", workspace.LiveColor("prod", "r1")); // traffic never moved to the broken colour
        Assert.Equal("v1", await workspace.VersionServedAsync("prod", "r1", "blue"));
        Assert.Null(await workspace.VersionServedAsync("prod", "r2", "green")); // the later wave never started
        Assert.Equal("v1", await workspace.VersionServedAsync("prod", "r2", "blue"));
        var canary = ReleaseWorkspace.Apps(v2).Single(a => (string?)a["region"] == "r1");
        Assert.Equal("failed", (string?)canary["status"]);
        Assert.All(ReleaseWorkspace.Apps(v2).Where(a => (string?)a["region"] is "r2" or "r3"), a => Assert.Equal("pending", (string?)a["status"]));
        Assert.Contains("canary", (string?)v2["statement"], StringComparison.Ordinal);

        // Traceability: which infrastructure each application version ran on, where.
        var infra = (string)v1["infra_version"]!;
        var trace = JsonNode.Parse((await workspace.RunAsync("trace", "app:v1", "--json")).Stdout)!;
        var deployments = trace["deployments"]!.AsArray();
        Assert.Equal(5, deployments.Count);
        Assert.All(deployments, d => Assert.Equal($"app:v1-infra:{infra}", (string?)d!["tag"]));
        Assert.Equal(20, trace["stack_applies"]!.AsArray().Count);
        var v2Trace = JsonNode.Parse((await workspace.RunAsync("trace", "app:v2", "--json")).Stdout)!["deployments"]!.AsArray();
        Assert.Equal(["failed", "live", "live"], v2Trace.Select(d => (string)d!["outcome"]!).Order());
        var byInfra = JsonNode.Parse((await workspace.RunAsync("trace", $"infra:{infra}", "--json")).Stdout)!["deployments"]!.AsArray();
        Assert.Equal(8, byInfra.Count); // v1 everywhere, v2 in dev, stage and the failed canary: same infrastructure

        var verify = await workspace.RunAsync("evidence", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        var export = await workspace.RunAsync("evidence", "export");
        Assert.Contains("CHG-7", export.Stdout, StringComparison.Ordinal); // the emergency flag is in the evidence
        var versions = await workspace.RunAsync("evidence", "versions", "--app", "v1", "--json");
        Assert.Contains($"\"{infra}\"", versions.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_health_check_after_a_direct_deploy_rolls_the_app_back_and_leaves_infrastructure_untouched()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync(configure: yaml => yaml.Replace("{ kind: blue-green, switch: ./app/switch.sh }", "{ kind: direct }", StringComparison.Ordinal));
        var (first, _, _) = await workspace.ReleaseJsonAsync("release", "v1", "--all", "--through", "dev", "--no-wait");
        Assert.Equal(0, first);
        var appliesBefore = workspace.Applies().Count;
        var stateBefore = File.ReadAllText(Path.Combine(workspace.Root, "world", "dev", "_", "network.state"));

        workspace.Write("app/CHANGES", "v2\n");
        workspace.Commit("web v2");
        workspace.SetVariable("WEB_UNHEALTHY", "v2@_");
        var (exit, v2, raw) = await workspace.ReleaseJsonAsync("release", "v2", "--through", "dev", "--no-wait");

        Assert.True(exit == 1, raw.ToString());
        var app = Assert.Single(ReleaseWorkspace.Apps(v2));
        Assert.Equal("rolled_back", (string?)app["status"]);
        Assert.Equal("v1", await workspace.VersionServedAsync("dev", "_", "blue"));
        // The rollback redeployed v1 from v1's own build, not from v2's artifact.
        Assert.Equal("dev _ blue v1 v1", File.ReadAllLines(Path.Combine(workspace.Root, "world", "deploy.log"))[^1]);
        Assert.Equal(appliesBefore, workspace.Applies().Count);
        Assert.Equal(stateBefore, File.ReadAllText(Path.Combine(workspace.Root, "world", "dev", "_", "network.state")));
        Assert.Contains("infrastructure is never rolled back", raw.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public async Task A_failing_stack_skips_its_dependants_and_lets_unrelated_branches_finish(string backend)
    {
        using var workspace = await ReleaseWorkspace.CreateAsync(backend);
        workspace.SetVariable("KV_FAIL", "cache");

        var (exit, release, raw) = await workspace.ReleaseJsonAsync("release", "v1", "--all", "--through", "dev", "--no-wait");

        Assert.True(exit == 1, raw.ToString());
        var status = ReleaseWorkspace.Targets(release).ToDictionary(t => (string)t["stack"]!, t => (string)t["status"]!);
        Assert.Equal("applied", status["network"]);
        Assert.Equal("applied", status["database"]);
        Assert.Equal("failed", status["cache"]);
        Assert.Equal("skipped", status["cdn"]);
        Assert.Equal(["database", "network"], workspace.Applies().Select(a => a.Stack).Order());
        Assert.Equal("skipped", (string?)ReleaseWorkspace.Apps(release).Single()["status"]);
        Assert.Null(workspace.LiveColor("dev", "_"));
        Assert.Contains("cache failed", (string?)release["statement"], StringComparison.Ordinal);
        Assert.Contains("cdn", (string?)release["statement"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_release_killed_mid_way_resumes_from_its_last_step_without_applying_again()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync(configure: yaml => yaml.Replace("promotion: { next: stage, soak: 2s }", "promotion: { next: stage, soak: 8s }", StringComparison.Ordinal));
        using var running = workspace.Start("release", "v1", "--all", "--through", "stage");
        await running.WaitForLineAsync("dev: soaking until", TimeSpan.FromMinutes(3));
        await running.KillHardAsync();

        var show = JsonNode.Parse((await workspace.RunAsync("release", "show", ReleaseId(running), "--json")).Stdout)!.AsObject();
        Assert.Equal("running", (string?)show["status"]); // nobody told the store: the process just died
        Assert.Equal(4, workspace.Applies().Count);

        var (exit, resumed, raw) = await workspace.ReleaseJsonAsync("release", "resume", ReleaseId(running), "--no-wait");

        Assert.True(exit == 0, raw.ToString());
        Assert.Equal("succeeded", (string?)resumed["status"]);
        var applies = workspace.Applies();
        Assert.Equal(4, applies.Count(a => a.Environment == "dev")); // not applied again
        Assert.Equal(4, applies.Count(a => a.Environment == "stage"));
        Assert.Equal(1, workspace.Builds());
        Assert.Equal("v1", await workspace.VersionServedAsync("stage", "_", "blue"));
        Assert.Contains(resumed["timeline"]!.AsArray(), t => ((string)t!["message"]!).StartsWith("resumed by", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_release_killed_during_an_apply_refuses_to_apply_that_stack_again_on_resume()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync();
        workspace.SetVariable("KV_DELAY", "30");
        using var running = workspace.Start("release", "v1", "--all", "--through", "dev");
        await running.WaitForLineAsync("applying network", TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromSeconds(2)); // the run is in its engine step
        await running.KillHardAsync();
        workspace.SetVariable("KV_DELAY", null);

        var (exit, resumed, raw) = await workspace.ReleaseJsonAsync("release", "resume", ReleaseId(running), "--no-wait");

        Assert.True(exit == 1, raw.ToString());
        var network = ReleaseWorkspace.Targets(resumed).Single(t => (string?)t["stack"] == "network");
        Assert.Equal("failed", (string?)network["status"]);
        Assert.Contains("not applied again", (string?)network["detail"], StringComparison.Ordinal);
        Assert.Empty(workspace.Applies());
    }

    [Fact]
    public async Task Only_stacks_changed_by_the_commit_and_their_dependants_run()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync();
        Assert.Equal(0, (await workspace.ReleaseJsonAsync("release", "v1", "--all", "--through", "dev", "--no-wait")).ExitCode);

        workspace.Write("stacks/cache/desired", "cache v2\n");
        workspace.Commit("bigger cache");
        var (exit, v2, raw) = await workspace.ReleaseJsonAsync("release", "v2", "--through", "dev", "--no-wait");

        Assert.True(exit == 0, raw.ToString());
        Assert.Equal(["cache", "cdn"], v2["stacks"]!.AsArray().Select(s => (string)s!["stack"]!).Order());
        // cdn runs because it depends on cache, but its own plan is empty: nothing to apply.
        Assert.Equal(["cache", "cache", "cdn", "database", "network"], workspace.Applies().Select(a => a.Stack).Order());
        Assert.Equal("unchanged", (string?)ReleaseWorkspace.Targets(v2).Single(t => (string?)t["stack"] == "cdn")["status"]);
        Assert.Equal("v2", await workspace.VersionServedAsync("dev", "_", "green"));
    }

    [Fact]
    public async Task A_revert_plan_is_prepared_from_the_earlier_commit_and_applies_only_once_approved()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync(configure: yaml => yaml.Replace(
            "dev:\n    approvals: { required: 0 }", "dev:\n    approvals: { required: 1 }", StringComparison.Ordinal));
        workspace.Approvers = ["alice@example.com"]; // a platform owner of every stack
        Assert.Equal(0, (await workspace.ReleaseApprovingAsync("release", "v1", "--all", "--through", "dev")).ExitCode);
        workspace.Write("stacks/cache/desired", "cache v2\n");
        workspace.Commit("bigger cache");
        var (exit, v2, _) = await workspace.ReleaseApprovingAsync("release", "v2", "--through", "dev");
        Assert.Equal(0, exit);
        var cache = Path.Combine(workspace.Root, "world", "dev", "_", "cache.json");
        Assert.Contains("cache v2", File.ReadAllText(cache), StringComparison.Ordinal);

        var prepared = await workspace.RunAsync("release", "revert", (string)v2["id"]!, "--env", "dev", "--json");

        Assert.True(prepared.ExitCode == 0, prepared.ToString());
        var revert = JsonNode.Parse(prepared.Stdout)!;
        Assert.Equal((string)v2["id"]!, (string?)revert["release_id"]);
        var plan = Assert.Single(revert["plans"]!.AsArray()); // only cache was applied by v2 (cdn's plan was empty)
        Assert.Equal("cache", (string?)plan!["stack"]);
        Assert.True((bool)plan["has_changes"]!);
        Assert.Contains("cache v2", File.ReadAllText(cache), StringComparison.Ordinal); // preparing applies nothing

        var unapproved = await workspace.RunAsync("apply", (string)plan["plan_id"]!);
        Assert.True(unapproved.ExitCode == 3, unapproved.ToString());
        Assert.Equal(0, (await workspace.RunAsync("approve", (string)plan["plan_id"]!, "--as", "alice@example.com")).ExitCode);
        var applied = await workspace.RunAsync("apply", (string)plan["plan_id"]!);

        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Contains("cache v1", File.ReadAllText(cache), StringComparison.Ordinal);
        Assert.Equal(0, (await workspace.RunAsync("evidence", "verify")).ExitCode);
    }

    [Fact]
    public async Task A_freeze_holds_the_release_at_the_gate_with_its_reason_until_lifted()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync();
        Assert.Equal(0, (await workspace.RunAsync("freeze", "start", "--env", "dev", "--reason", "incident 42: database failover")).ExitCode);

        var (exit, held, raw) = await workspace.ReleaseJsonAsync("release", "v1", "--all", "--through", "dev", "--no-wait");

        Assert.True(exit == 4, raw.ToString());
        Assert.Equal("waiting", (string?)held["status"]);
        Assert.Contains("incident 42", (string?)held["statement"], StringComparison.Ordinal);
        Assert.Empty(workspace.Applies());
        var listed = await workspace.RunAsync("releases");
        Assert.Contains("incident 42", listed.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await workspace.RunAsync("freeze", "stop", "--env", "dev")).ExitCode);
        var (resumed, done, resumedRaw) = await workspace.ReleaseJsonAsync("release", "resume", (string)held["id"]!, "--no-wait");
        Assert.True(resumed == 0, resumedRaw.ToString());
        Assert.Equal("succeeded", (string?)done["status"]);
    }

    [Fact]
    public async Task Bad_release_requests_get_one_line_and_write_nothing()
    {
        using var workspace = await ReleaseWorkspace.CreateAsync();

        var noTicket = await workspace.RunAsync("release", "v1", "--skip-canary-wait");
        var badVersion = await workspace.RunAsync("release", "v1;rm -rf /");
        var unknownEnv = await workspace.RunAsync("release", "v1", "--through", "qa");
        var unknownRelease = await workspace.RunAsync("release", "resume", "rel-nope");

        Assert.Equal(2, noTicket.ExitCode);
        Assert.Contains("--ticket", noTicket.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badVersion.ExitCode);
        Assert.Equal(2, unknownEnv.ExitCode);
        Assert.Equal(2, unknownRelease.ExitCode);
        foreach (var result in new[] { noTicket, badVersion, unknownEnv, unknownRelease })
        {
            Assert.Single(result.Stderr.Trim().Split('\n'));
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }

        Assert.Contains("no releases yet", (await workspace.RunAsync("releases")).Stdout, StringComparison.Ordinal);
    }

    private static string ReleaseId(RunningCli running)
    {
        var match = System.Text.RegularExpressions.Regex.Match(running.Output, @"release (rel-[0-9a-f]+)");
        Assert.True(match.Success, running.Output);
        return match.Groups[1].Value;
    }
}
