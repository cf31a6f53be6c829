using Airlock.Application.Apply;
using Airlock.Domain.Storage;

namespace Airlock.Server.Tests;

/// <summary>The reconciler over a real store: apply requests whose worker died are abandoned and their runs settled.</summary>
public sealed class ReconcilerTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public async Task A_dead_workers_requests_are_abandoned_and_its_runs_failed_before_locks_or_left_for_reconciliation_after(string backend)
    {
        await using var server = await ServerHarness.StartAsync(backend);
        var services = server.Host.Services;
        var store = services.Store;
        var t0 = services.Time.GetUtcNow();
        foreach (var (runId, state) in new[] { ("run-early", "queued"), ("run-late", "applying"), ("run-none", null as string) })
        {
            await store.ApplyRequests.CreateAsync(new ApplyRequestRecord(runId, "plan-x", "bob@example.com", null, null, ApplyRequestStates.Pending, t0), default);
            Assert.NotNull(await store.ApplyRequests.ClaimNextAsync("dead-replica/worker-1", TimeSpan.FromMilliseconds(1), default));
            if (state is not null)
            {
                await store.Runs.CreateAsync(runId, "site", "dev", state, "bob@example.com", default);
                await store.Runs.SaveDetailsAsync(new RunDetails(runId, "plan-x", "bob@example.com", 1, null, null, null, "{}"), default);
            }
        }

        await Task.Delay(50); // the 1 ms claims lapse
        var report = await new RunReconciler(services).ReconcileOnceAsync(default);

        Assert.Equal(["run-early", "run-late", "run-none"], report.AbandonedRequests.Order(StringComparer.Ordinal));
        Assert.Equal(["run-late"], report.Reconciled);
        Assert.Equal(["run-early"], report.FailedBeforeLocks);
        Assert.Equal("failed", (await store.Runs.GetAsync("run-early", default))!.State);
        Assert.Equal("pre_mutation", (await store.Runs.GetDetailsAsync("run-early", default))!.FailureClass);
        Assert.Equal("needs_reconciliation", (await store.Runs.GetAsync("run-late", default))!.State);
        Assert.Equal("runner_failure", (await store.Runs.GetDetailsAsync("run-late", default))!.FailureClass);
        Assert.All(["run-early", "run-late", "run-none"], id => Assert.Equal(ApplyRequestStates.Abandoned, store.ApplyRequests.GetAsync(id, default).Result!.State));

        // Chained into evidence; a second pass (another replica, or the next interval) finds nothing to do.
        var chained = new List<string?>();
        await foreach (var record in store.Evidence.ReadAsync(1, default))
        {
            chained.Add(record.RunId);
        }

        Assert.Equal(["run-early", "run-late"], chained.Order(StringComparer.Ordinal));
        Assert.False((await new RunReconciler(services).ReconcileOnceAsync(default)).Any);
    }
}
