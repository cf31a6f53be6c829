using Airlock.Domain.Storage;

namespace Airlock.Store.Tests;

/// <summary>The contract for what the server's API and /metrics read: plan listing, runs by state, run statistics.</summary>
public abstract partial class StoreContract<TBackend>
{
    [Fact]
    public async Task Plans_are_listed_newest_first_filtered_and_limited_without_their_artifacts()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var artifact = new byte[] { 1, 2, 3 };
        var expires = time.GetUtcNow().AddHours(1);
        await store.Plans.SaveAsync(new NewPlan("p1", "network", "prod", "c1", "sha256:a", expires, "{}"), artifact, default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Plans.SaveAsync(new NewPlan("p2", "app", "prod", "c1", "sha256:b", expires, "{}"), artifact, default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Plans.SaveAsync(new NewPlan("p3", "network", "dev", "c2", "sha256:c", expires, "{\"x\":1}", "eu-west-1"), artifact, default);

        Assert.Equal(["p3", "p2", "p1"], (await store.Plans.ListAsync(new PlanQuery(), default)).Select(p => p.PlanId));
        Assert.Equal(["p3"], (await store.Plans.ListAsync(new PlanQuery(Limit: 1), default)).Select(p => p.PlanId));
        Assert.Equal(["p3", "p1"], (await store.Plans.ListAsync(new PlanQuery(Stack: "network"), default)).Select(p => p.PlanId));
        Assert.Equal(["p2", "p1"], (await store.Plans.ListAsync(new PlanQuery(Environment: "prod"), default)).Select(p => p.PlanId));
        var one = Assert.Single(await store.Plans.ListAsync(new PlanQuery("network", "dev"), default));
        Assert.Equal(await store.Plans.GetAsync("p3", default), one);
        Assert.Empty(await store.Plans.ListAsync(new PlanQuery(Stack: "dns"), default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Plans.ListAsync(new PlanQuery(Limit: 0), default));
    }

    [Fact]
    public async Task Runs_are_filtered_by_state()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Runs.CreateAsync("a", "network", "prod", "queued", "alice", default);
        await store.Runs.CreateAsync("b", "network", "prod", "queued", "alice", default);
        await store.Runs.TransitionAsync("a", "queued", "failed", "airlock", "x", default);

        Assert.Equal(["a"], (await store.Runs.ListAsync(new RunQuery(State: "failed"), default)).Select(r => r.Id));
        Assert.Equal(["b"], (await store.Runs.ListAsync(new RunQuery("network", "prod", State: "queued"), default)).Select(r => r.Id));
        Assert.Empty(await store.Runs.ListAsync(new RunQuery(State: "succeeded"), default));
    }

    [Fact]
    public async Task Run_statistics_count_states_failure_classes_and_bucket_apply_queue_and_lock_times_of_the_window()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var start = time.GetUtcNow();
        // Before the window: counted by state, not in any duration.
        await store.Runs.CreateAsync("old", "network", "prod", "queued", "alice", default);
        await MoveAsync("old", ("acquiring_locks", 1), ("preparing", 1), ("applying", 1), ("verifying", 1), ("publishing", 1), ("succeeded", 1));
        time.Advance(TimeSpan.FromDays(2));
        var windowStart = time.GetUtcNow();

        // fast: queued 3 s, taking locks 2 s, then 20 s from applying to succeeded; notes (from = to) move nothing.
        await store.Runs.CreateAsync("fast", "network", "prod", "queued", "alice", default);
        time.Advance(TimeSpan.FromSeconds(3));
        await MoveAsync("fast", ("acquiring_locks", 0));
        time.Advance(TimeSpan.FromSeconds(2));
        await MoveAsync("fast", ("preparing", 0), ("policy_check", 7), ("applying", 1));
        time.Advance(TimeSpan.FromSeconds(5));
        await store.Runs.AppendNoteAsync("fast", "applying", "airlock", "attempt 1 of the apply", default);
        await MoveAsync("fast", ("verifying", 5), ("publishing", 10), ("succeeded", 0));
        time.Advance(TimeSpan.FromSeconds(4));
        await store.Runs.AppendNoteAsync("fast", "succeeded", "airlock", "a late note", default);

        // slow: no waits, 60 s from applying to failed.
        await store.Runs.CreateAsync("slow", "app", "prod", "queued", "alice", default);
        await MoveAsync("slow", ("acquiring_locks", 0), ("preparing", 0), ("applying", 0), ("failed", 60));
        await store.Runs.SaveDetailsAsync(new RunDetails("slow", "p", "alice", 1, "provider_transient", "boom", null, "{}"), default);
        await store.Runs.SaveDetailsAsync(new RunDetails("fast", "p", "alice", 1, null, "ok", null, "{}"), default);

        // lost: its outcome was unknown (then reconciled as failed much later): no apply duration.
        await store.Runs.CreateAsync("lost", "dns", "prod", "queued", "alice", default);
        await MoveAsync("lost", ("acquiring_locks", 0), ("preparing", 0), ("applying", 0), ("needs_reconciliation", 30), ("failed", 3600));

        // refused before applying: no apply duration; still waiting for locks; cancelled while queued.
        await store.Runs.CreateAsync("refused", "dns", "prod", "queued", "alice", default);
        await MoveAsync("refused", ("acquiring_locks", 0), ("preparing", 0), ("rejected", 1));
        var waitingSince = time.GetUtcNow();
        await store.Runs.CreateAsync("waiting", "dns", "prod", "queued", "alice", default);
        await MoveAsync("waiting", ("acquiring_locks", 0));
        await store.Runs.CreateAsync("gave-up", "web", "prod", "queued", "alice", default);
        await MoveAsync("gave-up", ("cancelled", 9));

        var stats = await store.Runs.StatisticsAsync(windowStart, [5, 30, 120], default);

        Assert.Equal(2, stats.ByState["succeeded"]);
        Assert.Equal(2, stats.ByState["failed"]);
        Assert.Equal(1, stats.ByState["acquiring_locks"]);
        Assert.Equal(waitingSince, stats.OldestUpdateByState["acquiring_locks"]);
        Assert.Equal(start.AddSeconds(6), stats.OldestUpdateByState["succeeded"]);
        Assert.Equal(1, Assert.Single(stats.FailuresByClass, f => f.Key == "provider_transient").Value);
        Assert.Single(stats.FailuresByClass);
        // Apply: fast (20 s) and slow (60 s); not old (before the window), lost, refused or the others.
        Assert.Equal(2, stats.ApplyDurations.Count);
        Assert.Equal(80, stats.ApplyDurations.SumSeconds, 3);
        Assert.Equal([(5d, 0L), (30d, 1L), (120d, 2L)], stats.ApplyDurations.Buckets);
        // Queue: fast 3 s; slow, lost, refused, waiting 0 s; gave-up never left the queue for its locks.
        Assert.Equal(5, stats.QueueWaits.Count);
        Assert.Equal(3, stats.QueueWaits.SumSeconds, 3);
        Assert.Equal([(5d, 5L), (30d, 5L), (120d, 5L)], stats.QueueWaits.Buckets);
        // Locks: fast 2 s; slow, lost, refused 0 s; waiting is still taking them.
        Assert.Equal(4, stats.LockWaits.Count);
        Assert.Equal(2, stats.LockWaits.SumSeconds, 3);

        time.Advance(TimeSpan.FromDays(1));
        var empty = await store.Runs.StatisticsAsync(time.GetUtcNow(), [5], default);
        Assert.Equal((0L, 0d), (empty.ApplyDurations.Count, empty.ApplyDurations.SumSeconds));
        Assert.Equal([(5d, 0L)], empty.ApplyDurations.Buckets);
        Assert.Equal(0, empty.QueueWaits.Count);
        Assert.Equal(0, empty.LockWaits.Count);

        // Each step: wait so many seconds, then move the run from its current state to the step's state.
        async Task MoveAsync(string run, params (string State, int AfterSeconds)[] steps)
        {
            foreach (var (state, after) in steps)
            {
                time.Advance(TimeSpan.FromSeconds(after));
                var current = (await store.Runs.GetAsync(run, default))!.State;
                await store.Runs.TransitionAsync(run, current, state, "airlock", "x", default);
            }
        }
    }
}
