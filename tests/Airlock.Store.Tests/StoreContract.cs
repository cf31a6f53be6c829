using System.Data.Common;
using System.Text;
using Airlock.Domain.Evidence;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Store.Locks;
using Airlock.Store.Sql;

namespace Airlock.Store.Tests;

/// <summary>The one behaviour contract every store backend must meet; run unchanged against SQLite and PostgreSQL.</summary>
public abstract partial class StoreContract<TBackend> : IDisposable
    where TBackend : StoreBackend, new()
{
    private static readonly LockKey Network = LockKey.Stack("acme", "prod", "123456789012", "eu-west-1", "network");

    protected TBackend Backend { get; } = new();

    public void Dispose()
    {
        Backend.Dispose();
        GC.SuppressFinalize(this);
    }

    private static LockRequest Request(string run, int leaseSeconds = 60) => new(run, "alice", "apply network", TimeSpan.FromSeconds(leaseSeconds));

    private static QueueDefinition Queue(string name = "prod-apps", int concurrency = 5, string? key = null) =>
        new(name, new QueueMatch("prod", []), concurrency, key, ["emergency", "standard"], StalePlanPolicy.Replan);

    private static EnqueueRequest Item(string run, string priority = "standard", string? key = null, string? hold = null, params LockKey[] locks) =>
        new(run, "prod", "app", priority, key, locks, hold);

    [Fact]
    public async Task Migrations_run_once_and_reopening_is_a_no_op()
    {
        var (store, time, target) = await Backend.FreshAsync();
        await store.Runs.CreateAsync("r1", "network", "prod", "queued", "alice", default);
        await store.DisposeAsync();
        await using var reopened = await Backend.OpenAsync(target, time);
        Assert.Equal(Migrations.LatestVersion, reopened.SchemaVersion);
        Assert.Equal("queued", (await reopened.Runs.GetAsync("r1", default))!.State);
    }

    [Fact]
    public async Task A_newer_schema_version_is_refused_with_a_clear_error()
    {
        var (store, time, target) = await Backend.FreshAsync();
        await ExecuteRawAsync(store, "INSERT INTO airlock_schema (version, applied_at) VALUES (99, 0)");
        await store.DisposeAsync();
        var error = await Assert.ThrowsAsync<SchemaTooNewException>(() => Backend.OpenAsync(target, time));
        Assert.Contains("version 99", error.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade airlock", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_held_lock_is_refused_to_others_and_shows_its_holder()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var first = await store.Locks.TryAcquireAsync(Network, Request("run-1"), default);
        var second = await store.Locks.TryAcquireAsync(Network, Request("run-2"), default);
        Assert.True(first.Acquired);
        Assert.False(second.Acquired);
        Assert.Equal("run-1", second.CurrentHolder!.Holder.RunId);
        var listed = Assert.Single(await store.Locks.ListAsync(default));
        Assert.Equal(Network, listed.Key);
        Assert.Equal("alice", listed.Holder.Actor);
        Assert.Equal("apply network", listed.Holder.Reason);
        Assert.Equal(first.Lease!.FencingToken, listed.FencingToken);
    }

    [Fact]
    public async Task Fencing_tokens_strictly_increase_across_holders_even_after_the_lock_row_is_deleted()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var tokens = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var lease = (await store.Locks.TryAcquireAsync(Network, Request($"run-{i}"), default)).Lease!;
            tokens.Add(lease.FencingToken);
            Assert.True(await store.Locks.ReleaseAsync(Network, lease.FencingToken, default));
            Assert.Empty(await store.Locks.ListAsync(default));
        }

        Assert.Equal([1, 2, 3, 4, 5], tokens);
        Assert.Equal(5, await store.Locks.LastFencingTokenAsync(Network, default));
    }

    [Fact]
    public async Task A_refused_acquisition_consumes_no_fencing_token()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var held = (await store.Locks.TryAcquireAsync(Network, Request("run-a"), default)).Lease!;
        var refused = await store.Locks.TryAcquireAsync(Network, Request("run-b"), default);
        Assert.Null(refused.Lease);
        Assert.Equal("run-a", refused.CurrentHolder!.Holder.RunId);
        Assert.Equal(held.FencingToken, await store.Locks.LastFencingTokenAsync(Network, default));
        Assert.True(await store.Locks.ReleaseAsync(Network, held.FencingToken, default));
        var next = (await store.Locks.TryAcquireAsync(Network, Request("run-b"), default)).Lease!;
        Assert.Equal(held.FencingToken + 1, next.FencingToken);
    }

    [Fact]
    public async Task Release_with_a_stale_token_leaves_the_new_holder_alone()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var old = (await store.Locks.TryAcquireAsync(Network, Request("run-old", 10), default)).Lease!;
        time.Advance(TimeSpan.FromSeconds(11));
        var fresh = (await store.Locks.TryAcquireAsync(Network, Request("run-new"), default)).Lease!;
        Assert.False(await store.Locks.ReleaseAsync(Network, old.FencingToken, default));
        Assert.Null(await store.Locks.RenewAsync(Network, old.FencingToken, TimeSpan.FromSeconds(10), default));
        Assert.Equal(fresh.FencingToken, Assert.Single(await store.Locks.ListAsync(default)).FencingToken);
    }

    [Fact]
    public async Task An_expired_lease_is_taken_with_a_higher_token_and_its_run_is_marked_for_reconciliation()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Runs.CreateAsync("run-dead", "network", "prod", "applying", "alice", default);
        var dead = (await store.Locks.TryAcquireAsync(Network, Request("run-dead", 30), default)).Lease!;

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False((await store.Locks.TryAcquireAsync(Network, Request("run-next"), default)).Acquired);
        Assert.Equal("applying", (await store.Runs.GetAsync("run-dead", default))!.State);

        time.Advance(TimeSpan.FromSeconds(2));
        // Lapsed but still visible until someone takes it: nothing releases it automatically.
        Assert.True(Assert.Single(await store.Locks.ListAsync(default)).IsExpiredAt(time.GetUtcNow()));
        var next = await store.Locks.TryAcquireAsync(Network, Request("run-next"), default);
        Assert.True(next.Acquired);
        Assert.True(next.Lease!.FencingToken > dead.FencingToken);
        Assert.Equal("run-dead", next.TookOverExpiredFrom!.Holder.RunId);
        Assert.Equal(RunState.NeedsReconciliation.WireName(), (await store.Runs.GetAsync("run-dead", default))!.State);
        var lastEvent = (await store.Runs.ReadEventsAsync("run-dead", default))[^1];
        Assert.Equal("applying", lastEvent.From);
        Assert.Equal(RunState.NeedsReconciliation.WireName(), lastEvent.To);
        Assert.Contains("expired", lastEvent.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Renewal_extends_a_live_lease_but_not_a_lapsed_one()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var lease = (await store.Locks.TryAcquireAsync(Network, Request("run-1", 10), default)).Lease!;
        time.Advance(TimeSpan.FromSeconds(8));
        var renewed = await store.Locks.RenewAsync(Network, lease.FencingToken, TimeSpan.FromSeconds(10), default);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(10), renewed!.Holder.Expires);
        time.Advance(TimeSpan.FromSeconds(8));
        Assert.False((await store.Locks.TryAcquireAsync(Network, Request("run-2"), default)).Acquired);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Null(await store.Locks.RenewAsync(Network, lease.FencingToken, TimeSpan.FromSeconds(10), default));
    }

    [Fact]
    public async Task Force_unlock_removes_the_lease_marks_the_run_and_records_actor_and_reason()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Runs.CreateAsync("run-stuck", "network", "prod", "applying", "alice", default);
        var held = (await store.Locks.TryAcquireAsync(Network, Request("run-stuck"), default)).Lease!;
        var removed = await store.Locks.ForceUnlockAsync(Network, "bob", "runner host lost", default);
        Assert.Equal(held.FencingToken, removed!.FencingToken);
        Assert.Empty(await store.Locks.ListAsync(default));
        var unlockEvent = (await store.Runs.ReadEventsAsync("run-stuck", default))[^1];
        Assert.Equal("bob", unlockEvent.Actor);
        Assert.Contains("runner host lost", unlockEvent.Detail, StringComparison.Ordinal);
        Assert.Equal(RunState.NeedsReconciliation.WireName(), unlockEvent.To);
        var after = (await store.Locks.TryAcquireAsync(Network, Request("run-after"), default)).Lease!;
        Assert.True(after.FencingToken > held.FencingToken);
        Assert.True(await store.Locks.ReleaseAsync(Network, after.FencingToken, default));
        Assert.Null(await store.Locks.ForceUnlockAsync(Network, "bob", "again", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Locks.ForceUnlockAsync(Network, "bob", " ", default));
    }

    [Fact]
    public async Task The_manager_takes_keys_in_global_order_and_releases_in_reverse()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var recording = new OrderRecordingLockStore(store.Locks);
        var manager = new LockManager(recording, time);
        var state = LockKey.State("s3://tfstate/prod/network");
        var semantic = LockKey.Semantic("shared-network", "prod");
        var freeze = LockKey.Freeze("prod");
        await using (await manager.AcquireAsync([state, Network, semantic, freeze, Network], Request("run-1"), TimeSpan.Zero, default))
        {
            Assert.Equal(4, (await store.Locks.ListAsync(default)).Count);
        }

        Assert.Equal([freeze, semantic, Network, state], recording.Acquired);
        Assert.Equal([state, Network, semantic, freeze], recording.Released);
        Assert.Empty(await store.Locks.ListAsync(default));
    }

    [Fact]
    public async Task A_timed_out_set_acquisition_names_the_holder_and_releases_what_it_took()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var manager = new LockManager(store.Locks, time);
        var semantic = LockKey.Semantic("shared-network", "prod");
        await store.Locks.TryAcquireAsync(Network, new LockRequest("run-other", "carol", "long apply", TimeSpan.FromHours(1)), default);
        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => manager.AcquireAsync([Network, semantic], Request("run-1"), TimeSpan.Zero, default));
        Assert.Equal(Network, error.Key);
        Assert.Contains("run-other", error.Message, StringComparison.Ordinal);
        Assert.Contains("carol", error.Message, StringComparison.Ordinal);
        Assert.Equal(Network, Assert.Single(await store.Locks.ListAsync(default)).Key);
    }

    [Fact]
    public async Task A_lock_handle_signals_when_its_lease_is_lost()
    {
        var (store, _, target) = await Backend.FreshAsync();
        await store.DisposeAsync();
        // Real time: the heartbeat must actually run and discover the loss.
        await using var live = await Backend.OpenAsync(target, TimeProvider.System);
        var manager = new LockManager(live.Locks, TimeProvider.System);
        // A 3 s lease renewed every second: generous enough for a heavily loaded 2-core machine.
        await using var handle = await manager.AcquireAsync([Network], Request("run-1", 3), TimeSpan.Zero, default);
        Assert.False(handle.LeaseLost.IsCancellationRequested);
        await Task.Delay(4000);
        Assert.False(handle.LeaseLost.IsCancellationRequested);
        await live.Locks.ForceUnlockAsync(Network, "bob", "testing loss", default);
        var lost = new TaskCompletionSource();
        using var registration = handle.LeaseLost.Register(lost.SetResult);
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(handle.LeaseLost.IsCancellationRequested);
    }

    [Fact]
    public async Task Runs_that_need_overlapping_keys_in_different_orders_all_finish()
    {
        var (store, _, target) = await Backend.FreshAsync();
        await store.DisposeAsync();
        await using var live = await Backend.OpenAsync(target, TimeProvider.System);
        var manager = new LockManager(live.Locks, TimeProvider.System, new LockManagerOptions { RetryDelay = TimeSpan.FromMilliseconds(2) });
        LockKey[] keys = [LockKey.Semantic("a", "prod"), LockKey.Semantic("b", "prod"), Network, LockKey.Freeze("prod/x")];
        var finished = 0;
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 8; i++)
            {
                // Each worker lists an overlapping subset in its own (reversed/rotated) order.
                var mine = keys.Skip(w % 2).Concat(keys.Take(w % 2)).Reverse().Take(3).ToArray();
                await using (await manager.AcquireAsync(mine, Request($"run-{w}-{i}"), TimeSpan.FromSeconds(20), default))
                {
                    await Task.Delay(1);
                }

                Interlocked.Increment(ref finished);
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(48, finished);
        Assert.Empty(await live.Locks.ListAsync(default));
    }

    [Fact]
    public async Task Emergency_items_are_claimed_before_standard_and_each_class_is_FIFO()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 10);
        await store.Queues.EnqueueAsync(queue, Item("s1"), default);
        await store.Queues.EnqueueAsync(queue, Item("s2"), default);
        await store.Queues.EnqueueAsync(queue, Item("e1", "emergency"), default);
        await store.Queues.EnqueueAsync(queue, Item("s3"), default);
        await store.Queues.EnqueueAsync(queue, Item("e2", "emergency"), default);
        var order = new List<string>();
        while (await store.Queues.ClaimAsync(queue, "w", default) is { } item)
        {
            order.Add(item.RunId);
        }

        Assert.Equal(["e1", "e2", "s1", "s2", "s3"], order);
    }

    [Fact]
    public async Task A_queue_never_claims_beyond_its_concurrency_until_an_item_completes()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue("prod-network", concurrency: 2);
        for (var i = 0; i < 4; i++)
        {
            await store.Queues.EnqueueAsync(queue, Item($"r{i}"), default);
        }

        var a = await store.Queues.ClaimAsync(queue, "w", default);
        var b = await store.Queues.ClaimAsync(queue, "w", default);
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.Null(await store.Queues.ClaimAsync(queue, "w", default));
        Assert.True(await store.Queues.CompleteAsync(a!.Id, "succeeded", default));
        Assert.False(await store.Queues.CompleteAsync(a.Id, "succeeded", default));
        Assert.Equal("r2", (await store.Queues.ClaimAsync(queue, "w", default))!.RunId);
        Assert.Null(await store.Queues.ClaimAsync(queue, "w", default));
    }

    [Fact]
    public async Task A_keyed_queue_limits_each_key_separately()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 1, key: "service");
        await store.Queues.EnqueueAsync(queue, Item("api-1", key: "api"), default);
        await store.Queues.EnqueueAsync(queue, Item("api-2", key: "api"), default);
        await store.Queues.EnqueueAsync(queue, Item("web-1", key: "web"), default);
        Assert.Equal("api-1", (await store.Queues.ClaimAsync(queue, "w", default))!.RunId);
        Assert.Equal("web-1", (await store.Queues.ClaimAsync(queue, "w", default))!.RunId);
        Assert.Null(await store.Queues.ClaimAsync(queue, "w", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Queues.EnqueueAsync(queue, Item("no-key"), default));
    }

    [Fact]
    public async Task Items_without_a_key_share_one_limit_once_the_queue_is_keyed()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Queues.EnqueueAsync(Queue(concurrency: 1), Item("old-1"), default);
        await store.Queues.EnqueueAsync(Queue(concurrency: 1), Item("old-2"), default);
        var keyed = Queue(concurrency: 1, key: "service");
        Assert.Equal("old-1", (await store.Queues.ClaimAsync(keyed, "w", default))!.RunId);
        Assert.Null(await store.Queues.ClaimAsync(keyed, "w", default));
    }

    [Fact]
    public async Task Concurrent_claims_on_a_keyed_queue_never_exceed_a_key_limit_nor_claim_twice()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 2, key: "service");
        string[] services = ["api", "web", "db"];
        for (var i = 0; i < 30; i++)
        {
            await store.Queues.EnqueueAsync(queue, Item($"r{i}", i % 7 == 0 ? "emergency" : "standard", key: services[i % 3]), default);
        }

        // 12 claimers at once: with everything waiting, exactly 2 per service may be claimed.
        var claims = await Task.WhenAll(Enumerable.Range(0, 12).Select(w => Task.Run(() => store.Queues.ClaimAsync(queue, $"w{w}", default))));
        var claimed = claims.OfType<QueueItem>().ToList();
        Assert.Equal(claimed.Count, claimed.Select(c => c.Id).Distinct().Count());
        Assert.All(services, s => Assert.Equal(2, claimed.Count(c => c.ConcurrencyKey == s)));
        var active = await store.Queues.ListActiveAsync(default);
        Assert.All(services, s => Assert.Equal(2, active.Count(i => i.ConcurrencyKey == s && i.State == QueueItemState.Claimed)));
    }

    [Fact]
    public async Task A_waiting_item_can_be_cancelled_but_a_claimed_one_cannot()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 1);
        var first = await store.Queues.EnqueueAsync(queue, Item("r1"), default);
        var second = await store.Queues.EnqueueAsync(queue, Item("r2"), default);
        await store.Queues.ClaimAsync(queue, "w", default);
        Assert.False(await store.Queues.CancelAsync(first.Id, "alice", "changed my mind", default));
        Assert.True(await store.Queues.CancelAsync(second.Id, "alice", "superseded", default));
        var cancelled = await store.Queues.GetAsync(second.Id, default);
        Assert.Equal(QueueItemState.Cancelled, cancelled!.State);
        Assert.Contains("superseded", cancelled.Outcome, StringComparison.Ordinal);
        Assert.DoesNotContain(await store.Queues.ListActiveAsync(default), i => i.Id == second.Id);
    }

    [Fact]
    public async Task The_queue_board_shows_positions_ages_and_why_items_wait()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 1);
        var semantic = LockKey.Semantic("shared-network", "prod");
        await store.Queues.EnqueueAsync(queue, Item("running"), default);
        await store.Queues.ClaimAsync(queue, "w", TimeSpan.FromHours(1), default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Queues.EnqueueAsync(queue, Item("needs-approval", hold: "waiting for approval"), default);
        await store.Queues.EnqueueAsync(queue, Item("locked-out", "emergency", null, null, semantic), default);
        await store.Queues.EnqueueAsync(queue, Item("plain"), default);
        await store.Locks.TryAcquireAsync(semantic, new LockRequest("run-x", "dave", "network change", TimeSpan.FromHours(1)), default);
        time.Advance(TimeSpan.FromMinutes(2));

        var view = Assert.Single(QueueBoard.Build(await store.Queues.ListActiveAsync(default), [queue], await store.Locks.ListAsync(default), time.GetUtcNow()));
        Assert.Equal("running", Assert.Single(view.Current).Item.RunId);
        Assert.Equal(TimeSpan.FromMinutes(3), view.Current[0].RunningFor);
        Assert.Equal(["locked-out", "needs-approval", "plain"], view.Waiting.Select(w => w.Item.RunId));
        Assert.Equal([1, 2, 3], view.Waiting.Select(w => w.Position));
        Assert.Equal(TimeSpan.FromMinutes(2), view.Waiting[0].Age);
        Assert.Contains("held by run run-x (dave", view.Waiting[0].BlockedReason, StringComparison.Ordinal);
        Assert.Equal("waiting for approval", view.Waiting[1].BlockedReason);
        Assert.Contains("concurrency limit (1/1)", view.Waiting[2].BlockedReason, StringComparison.Ordinal);

        // Locks are taken by the run after claiming, so only the hold keeps an item in line: needs-approval is skipped.
        Assert.True(await store.Queues.CompleteAsync(view.Current[0].Item.Id, "succeeded", default));
        Assert.Equal("locked-out", (await store.Queues.ClaimAsync(queue, "w", default))!.RunId);
        await store.Queues.CompleteAsync((await store.Queues.ListActiveAsync(default)).Single(i => i.RunId == "locked-out").Id, "ok", default);
        Assert.Equal("plain", (await store.Queues.ClaimAsync(queue, "w", default))!.RunId);
    }

    [Fact]
    public async Task Run_transitions_append_events_and_refuse_a_stale_expected_state()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Runs.CreateAsync("r1", "network", "prod", "requested", "alice", default);
        time.Advance(TimeSpan.FromSeconds(5));
        await store.Runs.TransitionAsync("r1", "requested", "validating", "airlock", "checks started", default);
        var conflict = await Assert.ThrowsAsync<RunStateConflictException>(() => store.Runs.TransitionAsync("r1", "requested", "queued", "airlock", "x", default));
        Assert.Contains("validating", conflict.Message, StringComparison.Ordinal);
        var events = await store.Runs.ReadEventsAsync("r1", default);
        Assert.Equal([(null, "requested"), ("requested", "validating")], events.Select(e => (e.From, e.To)));
        Assert.Equal(time.GetUtcNow(), events[1].At);
        Assert.Equal("checks started", events[1].Detail);
        Assert.True(events[1].Id > events[0].Id);
    }

    [Fact]
    public async Task Concurrent_evidence_appends_form_one_linear_chain()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                await store.Evidence.AppendAsync(head => ChainRecords.Next(head, $"w{w}-{i}"), default);
            }
        }));
        await Task.WhenAll(writers);
        var records = new List<ChainRecord>();
        await foreach (var record in store.Evidence.ReadAsync(1, default))
        {
            records.Add(record);
        }

        ChainRecords.AssertLinear(records, 90);
        var fromMiddle = new List<ChainRecord>();
        await foreach (var record in store.Evidence.ReadAsync(50, default))
        {
            fromMiddle.Add(record);
        }

        Assert.Equal(50, fromMiddle[0].Sequence);
        Assert.Equal(records[^1], fromMiddle[^1]);
    }

    [Fact]
    public async Task An_append_that_does_not_extend_the_head_is_rejected()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Evidence.AppendAsync(head => ChainRecords.Next(head, "first"), default);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.Evidence.AppendAsync(head => ChainRecords.Next(null, "fork"), default));
        var checkpoint = new SignedCheckpoint(1, 1, "sha256:abc", "key-1", "ecdsa-p256-sha256", "c2ln", new DateTimeOffset(2026, 11, 25, 12, 0, 0, 123, TimeSpan.FromHours(1)));
        await store.Evidence.AddCheckpointAsync(checkpoint, default);
        var stored = new List<SignedCheckpoint>();
        await foreach (var c in store.Evidence.ReadCheckpointsAsync(default))
        {
            stored.Add(c);
        }

        Assert.Equal(checkpoint, Assert.Single(stored));
    }

    [Fact]
    public async Task Plan_artifacts_round_trip_encrypted_and_fail_loudly_when_expired_or_tampered()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var artifact = Encoding.UTF8.GetBytes("{\"format_version\":\"1.2\",\"secret\":\"hunter2\"}");
        var plan = new NewPlan("p1", "network", "prod", "abc123", "sha256:digest", time.GetUtcNow().AddHours(1), "{\"serial\":42}");
        var saved = await store.Plans.SaveAsync(plan, artifact, default);
        Assert.StartsWith("sha256:", saved.ArtifactSha256, StringComparison.Ordinal);
        Assert.Equal(artifact, await store.Plans.ReadArtifactAsync("p1", default));
        var stored = (byte[])(await ScalarRawAsync(store, "SELECT ciphertext FROM plans WHERE plan_id = 'p1'"))!;
        Assert.DoesNotContain("hunter2", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);

        await store.Plans.SaveAsync(plan with { PlanId = "p2" }, artifact, default);
        await ExecuteRawAsync(store, "UPDATE plans SET expires_at = expires_at + 86400000 WHERE plan_id = 'p2'");
        var tampered = await Assert.ThrowsAsync<PlanArtifactException>(() => store.Plans.ReadArtifactAsync("p2", default));
        Assert.Contains("tampered", tampered.Message, StringComparison.Ordinal);

        await store.Plans.SaveAsync(plan with { PlanId = "p3" }, artifact, default);
        var ciphertext = (byte[])(await ScalarRawAsync(store, "SELECT ciphertext FROM plans WHERE plan_id = 'p3'"))!;
        ciphertext[0] ^= 1;
        await ExecuteRawAsync(store, "UPDATE plans SET ciphertext = @c WHERE plan_id = 'p3'", ("@c", ciphertext));
        Assert.Contains("tampered", (await Assert.ThrowsAsync<PlanArtifactException>(() => store.Plans.ReadArtifactAsync("p3", default))).Message, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromHours(1));
        var expired = await Assert.ThrowsAsync<PlanArtifactException>(() => store.Plans.ReadArtifactAsync("p1", default));
        Assert.Contains("expired", expired.Message, StringComparison.Ordinal);
        Assert.Contains("no such plan", (await Assert.ThrowsAsync<PlanArtifactException>(() => store.Plans.ReadArtifactAsync("nope", default))).Message, StringComparison.Ordinal);
    }

    // Raw SQL on the store's own database, for tests that must tamper with rows behind the store's back.
    private static async Task ExecuteRawAsync(SqlAirlockStore store, string sql, params (string, object?)[] parameters)
    {
        await using var connection = await StoreInternals.OpenAsync(store);
        await using var command = StoreInternals.Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarRawAsync(SqlAirlockStore store, string sql)
    {
        await using var connection = await StoreInternals.OpenAsync(store);
        await using var command = StoreInternals.Command(connection, sql, []);
        return await command.ExecuteScalarAsync();
    }
}

/// <summary>Runs the contract on a fresh SQLite file per test.</summary>
public sealed class SqliteStoreContract : StoreContract<SqliteBackend>
{
}

/// <summary>Runs the contract on a fresh database per test on the real PostgreSQL server.</summary>
public sealed class PostgresStoreContract : StoreContract<PostgresBackend>
{
}
