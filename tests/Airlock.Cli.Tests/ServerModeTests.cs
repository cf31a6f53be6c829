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
        await served.WaitForLineAsync("airlock serve: listening on");
        var url = ListeningOn().Match(served.Output).Groups[1].Value;
        using var elsewhere = new TempDir("airlock-no-workspace");
        Task<CliResult> Remote(string? token, params string[] args) =>
            CliRunner.RunAsync(elsewhere.Path, new Dictionary<string, string?> { ["AIRLOCK_TOKEN"] = token, ["AIRLOCK_ACTOR"] = null }, [.. args, "--server", url]);

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

    private static async Task<string> TokenAsync(GovernedWorkspace workspace, string actor)
    {
        var created = await workspace.RunAsync("token", "create", "--actor", actor, "--as", "admin@example.com", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        return (string)JsonNode.Parse(created.Stdout)!["secret"]!;
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
