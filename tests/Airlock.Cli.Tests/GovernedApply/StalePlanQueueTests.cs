using System.Text.Json.Nodes;

namespace Airlock.Cli.Tests.GovernedApply;

/// <summary>
/// A saved plan that expires while its apply waits in a queue (`queues.&lt;name&gt;.stale_plan`): re-planned and
/// applied when the fresh plan matches the approved one in substance (the default, `replan`), refused with
/// `fail`. A slow apply of another plan holds the queue; plans live 8 s, the slow apply takes 16 s.
/// </summary>
public sealed class StalePlanQueueTests
{
    private static async Task<(CliResult Stale, CliResult Holder, GovernedWorkspace Workspace)> ExpireWhileQueuedAsync(string stalePlan)
    {
        var ws = await GovernedWorkspace.CreateAsync("sqlite");
        ws.Write("airlock.yaml", ws.Read("airlock.yaml").Replace("plan: { mode: replan }", "plan: { mode: saved, max_age: 8s }", StringComparison.Ordinal)
            + $"\nqueues:\n  dev-site: {{ match: {{ environment: dev, stacks: [site] }}, concurrency: 1{stalePlan} }}\n");
        ws.Commit("saved plans that expire quickly, one queue");
        var holderPlan = await ws.PlanAsync("dev");
        ws.SetVariable("SITE_APPLY_DELAY", "16");
        using var holder = ws.Start("apply", holderPlan, "--as", "alice@example.com");
        await holder.WaitForLineAsync("site: waiting");
        ws.SetVariable("SITE_APPLY_DELAY", null);

        // Planned and validated while the holder applies; it expires in the queue behind it.
        var stalePlanId = await ws.PlanAsync("dev");
        var stale = await ws.RunAsync("apply", stalePlanId, "--as", "bob@example.com", "--json");
        return (stale, await holder.WaitForExitAsync(), ws);
    }

    [Fact]
    public async Task By_default_a_plan_that_expires_while_queued_is_planned_again_and_applied_when_nothing_material_changed()
    {
        var (stale, holder, ws) = await ExpireWhileQueuedAsync(stalePlan: "");
        using (ws)
        {
            Assert.True(holder.ExitCode == 0, holder.ToString());
            Assert.True(stale.ExitCode == 0, stale.ToString());
            var runId = (string)JsonNode.Parse(stale.Stdout)!["run_id"]!;
            var run = (await ws.RunAsync("run", "show", runId)).Stdout;
            Assert.Contains("expired while queued", run, StringComparison.Ordinal);
            Assert.Contains("queue dev-site re-plans stale plans", run, StringComparison.Ordinal);
            Assert.Contains("planning again: the approved plan expired while queued", run, StringComparison.Ordinal);
            Assert.DoesNotContain("verifying_saved_plan", run, StringComparison.Ordinal);
            Assert.Equal(1, ws.Serial("dev")); // the holder deployed the site; the fresh plan found nothing left to change
        }
    }

    [Fact]
    public async Task With_stale_plan_fail_a_plan_that_expires_while_queued_is_refused_and_changes_nothing()
    {
        var (stale, holder, ws) = await ExpireWhileQueuedAsync(stalePlan: ", stale_plan: fail");
        using (ws)
        {
            Assert.True(holder.ExitCode == 0, holder.ToString());
            Assert.True(stale.ExitCode == 3, stale.ToString());
            Assert.Matches(@"^plan plan-\S+ expired while queued \(at .+\): plan again \(queue dev-site fails stale plans\)$", (string)JsonNode.Parse(stale.Stdout)!["statement"]!);
            Assert.Equal(1, ws.Serial("dev"));
        }
    }
}
