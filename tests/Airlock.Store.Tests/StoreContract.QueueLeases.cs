using Airlock.Domain.Queues;
using Airlock.Store.Queues;

namespace Airlock.Store.Tests;

/// <summary>Claim leases: a claim whose claimer stopped renewing it frees its slot and shows as abandoned.</summary>
public abstract partial class StoreContract<TBackend>
{
    [Fact]
    public async Task A_claim_whose_lease_lapsed_frees_its_slot_stays_on_the_board_as_abandoned_and_is_never_revived()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue("prod-network", concurrency: 1);
        await store.Queues.EnqueueAsync(queue, Item("crashed"), default);
        await store.Queues.EnqueueAsync(queue, Item("next"), default);
        var lease = TimeSpan.FromSeconds(30);
        var claimed = (await store.Queues.ClaimAsync(queue, "pid-1", lease, default))!;
        Assert.Equal(time.GetUtcNow() + lease, claimed.ClaimedUntil);

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Null(await store.Queues.ClaimAsync(queue, "pid-2", lease, default));
        Assert.True(await store.Queues.RenewClaimAsync(claimed.Id, "pid-1", lease, default));
        Assert.Equal(time.GetUtcNow() + lease, (await store.Queues.GetAsync(claimed.Id, default))!.ClaimedUntil);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await store.Queues.ClaimAsync(queue, "pid-2", lease, default));

        time.Advance(TimeSpan.FromSeconds(1)); // exactly at the lapse: no longer counted
        var lapsedAt = time.GetUtcNow();
        var next = await store.Queues.ClaimAsync(queue, "pid-2", lease, default);
        Assert.Equal("next", next!.RunId);
        Assert.False(await store.Queues.RenewClaimAsync(claimed.Id, "pid-1", lease, default));

        var active = await store.Queues.ListActiveAsync(default);
        var dead = Assert.Single(active, i => i.RunId == "crashed");
        Assert.Equal(QueueItemState.Claimed, dead.State);
        Assert.True(dead.IsAbandonedAt(time.GetUtcNow()));
        var view = Assert.Single(QueueBoard.Build(active, [queue], [], time.GetUtcNow()));
        Assert.Equal("next", Assert.Single(view.Current).Item.RunId);
        var abandoned = Assert.Single(view.Abandoned);
        Assert.Equal(lapsedAt, abandoned.AbandonedAt);
        Assert.Equal($"abandoned by pid-1 at {lapsedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}", abandoned.Description);

        // The late run may still finish its item; that does not free a second slot.
        Assert.True(await store.Queues.CompleteAsync(claimed.Id, "needs_reconciliation", default));
        await store.Queues.EnqueueAsync(queue, Item("third"), default);
        Assert.Null(await store.Queues.ClaimAsync(queue, "pid-3", lease, default));
    }

    [Fact]
    public async Task A_lapsed_claim_frees_only_its_own_key_on_a_keyed_queue()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 1, key: "service");
        await store.Queues.EnqueueAsync(queue, Item("a1", key: "billing"), default);
        await store.Queues.EnqueueAsync(queue, Item("b1", key: "search"), default);
        await store.Queues.EnqueueAsync(queue, Item("a2", key: "billing"), default);
        await store.Queues.EnqueueAsync(queue, Item("b2", key: "search"), default);
        var a1 = (await store.Queues.ClaimAsync(queue, "w", TimeSpan.FromSeconds(10), default))!;
        var b1 = (await store.Queues.ClaimAsync(queue, "w", TimeSpan.FromSeconds(60), default))!;
        Assert.Equal(("a1", "b1"), (a1.RunId, b1.RunId));

        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal("a2", (await store.Queues.ClaimAsync(queue, "w", TimeSpan.FromSeconds(60), default))!.RunId);
        Assert.Null(await store.Queues.ClaimAsync(queue, "w", TimeSpan.FromSeconds(60), default));
    }

    [Fact]
    public async Task Only_the_claimer_renews_and_only_a_live_claim()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue();
        var waiting = await store.Queues.EnqueueAsync(queue, Item("waiting", hold: "waiting for approval"), default);
        await store.Queues.EnqueueAsync(queue, Item("claimed"), default);
        var claimed = (await store.Queues.ClaimAsync(queue, "owner", TimeSpan.FromSeconds(30), default))!;

        Assert.False(await store.Queues.RenewClaimAsync(claimed.Id, "intruder", TimeSpan.FromSeconds(30), default));
        Assert.False(await store.Queues.RenewClaimAsync(waiting.Id, "owner", TimeSpan.FromSeconds(30), default));
        Assert.True(await store.Queues.RenewClaimAsync(claimed.Id, "owner", TimeSpan.FromSeconds(30), default));
        Assert.True(await store.Queues.CompleteAsync(claimed.Id, "succeeded", default));
        Assert.False(await store.Queues.RenewClaimAsync(claimed.Id, "owner", TimeSpan.FromSeconds(30), default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Queues.ClaimAsync(queue, "owner", TimeSpan.Zero, default));
    }

    [Fact]
    public async Task A_claim_keeper_keeps_a_live_claim_and_signals_when_it_is_lost()
    {
        var (store, _, target) = await Backend.FreshAsync();
        await store.DisposeAsync();
        // Real time: the heartbeat must actually run. A 3 s lease renewed every second, generous for a loaded machine.
        await using var live = await Backend.OpenAsync(target, TimeProvider.System);
        var queue = Queue(concurrency: 1);
        await live.Queues.EnqueueAsync(queue, Item("kept"), default);
        await live.Queues.EnqueueAsync(queue, Item("behind"), default);
        var lease = TimeSpan.FromSeconds(3);
        var claimed = (await live.Queues.ClaimAsync(queue, "runner", lease, default))!;
        await using var keeper = QueueClaimKeeper.Start(live.Queues, TimeProvider.System, claimed, lease);

        await Task.Delay(4500);
        Assert.False(keeper.ClaimLost.IsCancellationRequested);
        Assert.Null(await live.Queues.ClaimAsync(queue, "other", lease, default));
        Assert.True((await live.Queues.GetAsync(claimed.Id, default))!.ClaimedUntil > claimed.ClaimedUntil);

        // Someone else finished the item (as a reconciliation would): the next renewal fails and the keeper says so.
        Assert.True(await live.Queues.CompleteAsync(claimed.Id, "reconciled", default));
        var lost = new TaskCompletionSource();
        using var registration = keeper.ClaimLost.Register(lost.SetResult);
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(keeper.ClaimLost.IsCancellationRequested);
    }
}
