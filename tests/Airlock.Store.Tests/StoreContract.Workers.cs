using Airlock.Domain.Locks;
using Airlock.Domain.Storage;

namespace Airlock.Store.Tests;

/// <summary>The contract for the server's workers: apply requests claimed once, lapsed locks reconciled without release, run logs.</summary>
public abstract partial class StoreContract<TBackend>
{
    private static ApplyRequestRecord Pending(string runId, DateTimeOffset at) =>
        new(runId, "plan-1", "bob@example.com", null, null, ApplyRequestStates.Pending, at);

    [Fact]
    public async Task Each_apply_request_is_claimed_by_exactly_one_of_many_racing_workers_oldest_first()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var t0 = time.GetUtcNow();
        for (var i = 0; i < 12; i++)
        {
            await store.ApplyRequests.CreateAsync(Pending($"run-{i:00}", t0.AddMilliseconds(i)), default);
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(async w =>
        {
            var mine = new List<string>();
            while (await store.ApplyRequests.ClaimNextAsync($"w{w}", TimeSpan.FromMinutes(1), default) is { } claimed)
            {
                Assert.Equal($"w{w}", claimed.ClaimedBy);
                Assert.Equal(ApplyRequestStates.Claimed, claimed.State);
                mine.Add(claimed.RunId);
            }

            return mine;
        }));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(12, all.Count);
        Assert.Equal(12, all.Distinct().Count());
        Assert.All(claims, c => Assert.Equal(c.Order(StringComparer.Ordinal), c)); // each worker got them oldest first
        Assert.Null(await store.ApplyRequests.ClaimNextAsync("late", TimeSpan.FromMinutes(1), default));
    }

    [Fact]
    public async Task A_lapsed_claim_is_abandoned_once_and_never_claimed_renewed_or_completed_again()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.ApplyRequests.CreateAsync(Pending("run-a", time.GetUtcNow()), default);
        await store.ApplyRequests.CreateAsync(Pending("run-b", time.GetUtcNow().AddMilliseconds(1)), default);
        var a = (await store.ApplyRequests.ClaimNextAsync("w1", TimeSpan.FromSeconds(30), default))!;
        var b = (await store.ApplyRequests.ClaimNextAsync("w2", TimeSpan.FromSeconds(30), default))!;
        Assert.Equal(("run-a", "run-b"), (a.RunId, b.RunId));

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(await store.ApplyRequests.RenewAsync("run-a", "w1", TimeSpan.FromSeconds(30), default));
        Assert.False(await store.ApplyRequests.RenewAsync("run-a", "w2", TimeSpan.FromSeconds(30), default)); // not its claim
        Assert.Empty(await store.ApplyRequests.ListLapsedAsync(default));

        time.Advance(TimeSpan.FromSeconds(15)); // run-b lapsed (35 s), run-a renewed until 50 s
        Assert.Equal(["run-b"], (await store.ApplyRequests.ListLapsedAsync(default)).Select(r => r.RunId));
        Assert.False(await store.ApplyRequests.RenewAsync("run-b", "w2", TimeSpan.FromSeconds(30), default));
        Assert.False(await store.ApplyRequests.AbandonAsync("run-a", "not lapsed", default));
        Assert.True(await store.ApplyRequests.AbandonAsync("run-b", "w2 died", default));
        Assert.False(await store.ApplyRequests.AbandonAsync("run-b", "again", default));
        Assert.False(await store.ApplyRequests.CompleteAsync("run-b", "w2", "succeeded", default));
        Assert.Null(await store.ApplyRequests.ClaimNextAsync("w3", TimeSpan.FromSeconds(30), default));
        var abandoned = (await store.ApplyRequests.GetAsync("run-b", default))!;
        Assert.Equal((ApplyRequestStates.Abandoned, "w2 died"), (abandoned.State, abandoned.Outcome));

        Assert.True(await store.ApplyRequests.CompleteAsync("run-a", "w1", "succeeded", default));
        var done = (await store.ApplyRequests.GetAsync("run-a", default))!;
        Assert.Equal((ApplyRequestStates.Done, "succeeded"), (done.State, done.Outcome));
        Assert.Equal(["run-a"], (await store.ApplyRequests.ListAsync(ApplyRequestStates.Done, 10, default)).Select(r => r.RunId));
    }

    [Fact]
    public async Task A_lapsed_lock_marks_its_running_holder_for_reconciliation_once_and_stays_held()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var key = LockKey.Stack("p", "prod", "acct", "eu-west-1", "network");
        await store.Runs.CreateAsync("run-1", "network", "prod", "applying", "alice", default);
        var lease = (await store.Locks.TryAcquireAsync(key, new LockRequest("run-1", "alice", "apply", TimeSpan.FromMinutes(1)), default)).Lease!;

        Assert.False(await store.Locks.ReconcileLapsedAsync(key, lease.FencingToken, default)); // still live
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(await store.Locks.ReconcileLapsedAsync(key, lease.FencingToken + 1, default)); // another token
        Assert.True(await store.Locks.ReconcileLapsedAsync(key, lease.FencingToken, default));
        Assert.Equal("needs_reconciliation", (await store.Runs.GetAsync("run-1", default))!.State);
        Assert.False(await store.Locks.ReconcileLapsedAsync(key, lease.FencingToken, default)); // said once
        Assert.Single(await store.Runs.ReadEventsAsync("run-1", default), e => e.To == "needs_reconciliation");
        Assert.Equal("run-1", Assert.Single(await store.Locks.ListAsync(default)).Holder.RunId); // never released

        // A holder that already ended (only its release pending) is left alone.
        var other = LockKey.Stack("p", "prod", "acct", "eu-west-1", "dns");
        await store.Runs.CreateAsync("run-2", "dns", "prod", "succeeded", "alice", default);
        var done = (await store.Locks.TryAcquireAsync(other, new LockRequest("run-2", "alice", "apply", TimeSpan.FromMinutes(1)), default)).Lease!;
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(await store.Locks.ReconcileLapsedAsync(other, done.FencingToken, default));
        Assert.Equal("succeeded", (await store.Runs.GetAsync("run-2", default))!.State);
    }

    [Fact]
    public async Task Run_log_lines_are_read_back_in_order_after_a_sequence_number()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var at = time.GetUtcNow();
        await store.RunLogs.AppendAsync([.. Enumerable.Range(1, 5).Select(i => new RunLogLine("run-1", i, at, i % 2 == 0 ? "stderr" : "stdout", $"line {i}"))], default);
        await store.RunLogs.AppendAsync([new RunLogLine("run-2", 1, at, "airlock", "other run")], default);

        Assert.Equal(["line 1", "line 2", "line 3", "line 4", "line 5"], (await store.RunLogs.ReadAsync("run-1", 0, 100, default)).Select(l => l.Line));
        Assert.Equal([4L, 5L], (await store.RunLogs.ReadAsync("run-1", 3, 100, default)).Select(l => l.Seq));
        Assert.Equal([1L, 2L], (await store.RunLogs.ReadAsync("run-1", 0, 2, default)).Select(l => l.Seq));
        var second = (await store.RunLogs.ReadAsync("run-1", 1, 1, default)).Single();
        Assert.Equal(new RunLogLine("run-1", 2, Sql.Db.Instant(Sql.Db.Ms(at)), "stderr", "line 2"), second);
        Assert.Empty(await store.RunLogs.ReadAsync("run-1", 5, 100, default));
    }
}
