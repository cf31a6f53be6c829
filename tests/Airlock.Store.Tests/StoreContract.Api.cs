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
    public async Task Run_statistics_count_states_failure_classes_and_bucket_durations_of_the_window()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var start = time.GetUtcNow();
        await store.Runs.CreateAsync("old", "network", "prod", "queued", "alice", default);
        await store.Runs.TransitionAsync("old", "queued", "succeeded", "airlock", "x", default);
        time.Advance(TimeSpan.FromDays(2));
        var windowStart = time.GetUtcNow();
        await store.Runs.CreateAsync("fast", "network", "prod", "queued", "alice", default);
        await store.Runs.CreateAsync("slow", "app", "prod", "queued", "alice", default);
        await store.Runs.CreateAsync("waiting", "dns", "prod", "acquiring_locks", "alice", default);
        time.Advance(TimeSpan.FromSeconds(10));
        await store.Runs.TransitionAsync("fast", "queued", "succeeded", "airlock", "x", default);
        time.Advance(TimeSpan.FromSeconds(50));
        await store.Runs.TransitionAsync("slow", "queued", "failed", "airlock", "x", default);
        await store.Runs.SaveDetailsAsync(new RunDetails("slow", "p", "alice", 1, "provider_transient", "boom", null, "{}"), default);
        await store.Runs.SaveDetailsAsync(new RunDetails("fast", "p", "alice", 1, null, "ok", null, "{}"), default);

        var stats = await store.Runs.StatisticsAsync(["succeeded", "failed"], windowStart, [5, 30, 120], default);

        Assert.Equal(2, stats.ByState["succeeded"]);
        Assert.Equal(1, stats.ByState["failed"]);
        Assert.Equal(1, stats.ByState["acquiring_locks"]);
        Assert.Equal(windowStart, stats.OldestUpdateByState["acquiring_locks"]);
        Assert.Equal(start, stats.OldestUpdateByState["succeeded"]);
        Assert.Equal(1, Assert.Single(stats.FailuresByClass, f => f.Key == "provider_transient").Value);
        Assert.Single(stats.FailuresByClass);
        // Only "fast" (10 s) and "slow" (60 s) are in the window; "old" is not.
        Assert.Equal(2, stats.Durations.Count);
        Assert.Equal(70, stats.Durations.SumSeconds, 3);
        Assert.Equal([(5d, 0L), (30d, 1L), (120d, 2L)], stats.Durations.Buckets);

        var empty = await store.Runs.StatisticsAsync([], windowStart, [5], default);
        Assert.Equal(0, empty.Durations.Count);
        Assert.Equal([(5d, 0L)], empty.Durations.Buckets);
    }
}
