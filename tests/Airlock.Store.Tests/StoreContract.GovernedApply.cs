using System.Globalization;

using Airlock.Domain.Queues;
using Airlock.Domain.Storage;
using Airlock.Store.Sql;

namespace Airlock.Store.Tests;

/// <summary>The contract for the governed-apply ports: approvals, incident freezes, run notes/details/listing, claim-my-item.</summary>
public abstract partial class StoreContract<TBackend>
{
    private const string Binding = "{\"plan_digest\":\"sha256:aa\",\"destroy\":[]}";

    [Fact]
    public async Task Approvals_are_appended_and_listed_oldest_first_per_plan()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var now = time.GetUtcNow();
        var first = await store.Approvals.AddAsync("p1", "alice", ApprovalRecord.Approved, now, now.AddHours(4), Binding, default);
        await store.Approvals.AddAsync("p2", "carol", ApprovalRecord.Approved, now, now.AddHours(4), "{}", default);
        var second = await store.Approvals.AddAsync("p1", "bob", ApprovalRecord.Rejected, now.AddMinutes(5), now.AddHours(1), "{\"why\":\"x\"}", default);

        var listed = await store.Approvals.ListForPlanAsync("p1", default);
        Assert.Equal([first, second], listed);
        Assert.True(second.Id > first.Id);
        Assert.Equal(new ApprovalRecord(first.Id, "p1", "alice", "approved", now, now.AddHours(4), Binding), listed[0]);
        Assert.Equal(("bob", "rejected", now.AddMinutes(5), now.AddHours(1)), (listed[1].Approver, listed[1].Decision, listed[1].DecidedAt, listed[1].ValidUntil));
        Assert.Equal("carol", Assert.Single(await store.Approvals.ListForPlanAsync("p2", default)).Approver);
        Assert.Empty(await store.Approvals.ListForPlanAsync("nope", default));
    }

    [Fact]
    public async Task An_unknown_approval_decision_is_refused_and_nothing_is_written()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var now = time.GetUtcNow();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.Approvals.AddAsync("p1", "alice", "maybe", now, now.AddHours(1), "{}", default));
        Assert.Contains("'maybe'", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => store.Approvals.AddAsync("p1", " ", ApprovalRecord.Approved, now, now.AddHours(1), "{}", default));
        Assert.Empty(await store.Approvals.ListForPlanAsync("p1", default));
    }

    [Fact]
    public async Task A_second_freeze_is_refused_naming_the_active_one_and_a_new_one_can_start_after_stop()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var startedAt = time.GetUtcNow();
        var freeze = await store.Freezes.StartAsync("prod", "SEV1 payments outage", "alice", startedAt, default);
        Assert.Equal(new IncidentFreezeRecord(freeze.Id, "prod", "SEV1 payments outage", "alice", startedAt, null, null), freeze);
        Assert.True(freeze.IsActive);
        Assert.Equal(freeze, await store.Freezes.ActiveAsync("prod", default));
        Assert.Null(await store.Freezes.ActiveAsync("staging", default));

        var refused = await Assert.ThrowsAsync<FreezeAlreadyActiveException>(() => store.Freezes.StartAsync("prod", "another", "bob", startedAt.AddMinutes(1), default));
        Assert.Equal(freeze, refused.Active);
        Assert.Contains("alice", refused.Message, StringComparison.Ordinal);
        Assert.Contains("SEV1 payments outage", refused.Message, StringComparison.Ordinal);

        // Another environment is independent.
        var staging = await store.Freezes.StartAsync("staging", "load test", "carol", startedAt, default);
        Assert.NotEqual(freeze.Id, staging.Id);

        var stoppedAt = startedAt.AddMinutes(30);
        var stopped = await store.Freezes.StopAsync("prod", "bob", stoppedAt, default);
        Assert.Equal(freeze with { StoppedBy = "bob", StoppedAt = stoppedAt }, stopped);
        Assert.False(stopped!.IsActive);
        Assert.Null(await store.Freezes.ActiveAsync("prod", default));
        Assert.Null(await store.Freezes.StopAsync("prod", "bob", stoppedAt, default));

        var again = await store.Freezes.StartAsync("prod", "SEV2 follow-up", "dave", stoppedAt.AddMinutes(1), default);
        Assert.True(again.Id > freeze.Id);
        Assert.Equal(again, await store.Freezes.ActiveAsync("prod", default));
        Assert.Equal(staging, await store.Freezes.ActiveAsync("staging", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Freezes.StartAsync("qa", " ", "dave", stoppedAt, default));
        Assert.Null(await store.Freezes.ActiveAsync("qa", default));
    }

    [Fact]
    public async Task Freezes_are_listed_active_first_then_most_recently_stopped_up_to_the_limit()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var t0 = time.GetUtcNow();
        var oldStop = await store.Freezes.StartAsync("prod", "first", "alice", t0, default);
        await store.Freezes.StopAsync("prod", "alice", t0.AddMinutes(10), default);
        var qaStop = await store.Freezes.StartAsync("qa", "qa freeze", "alice", t0.AddMinutes(1), default);
        await store.Freezes.StopAsync("qa", "alice", t0.AddMinutes(20), default);
        var prodActive = await store.Freezes.StartAsync("prod", "second", "bob", t0.AddMinutes(30), default);
        var stagingActive = await store.Freezes.StartAsync("staging", "third", "bob", t0.AddMinutes(31), default);

        var all = await store.Freezes.ListAsync(10, default);
        Assert.Equal([stagingActive.Id, prodActive.Id, qaStop.Id, oldStop.Id], all.Select(f => f.Id));
        Assert.Equal([true, true, false, false], all.Select(f => f.IsActive));
        Assert.Equal(t0.AddMinutes(20), all[2].StoppedAt);
        Assert.Equal([stagingActive.Id, prodActive.Id, qaStop.Id], (await store.Freezes.ListAsync(3, default)).Select(f => f.Id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Freezes.ListAsync(0, default));
    }

    [Fact]
    public async Task Concurrent_freeze_starts_from_separate_store_instances_let_exactly_one_win()
    {
        var (first, time, target) = await Backend.FreshAsync();
        var stores = new List<SqlAirlockStore> { first };
        try
        {
            for (var i = 1; i < 4; i++)
            {
                stores.Add(await Backend.OpenAsync(target, time));
            }

            for (var round = 0; round < 5; round++)
            {
                using var go = new ManualResetEventSlim();
                var attempts = stores.Select((s, i) => Task.Run(async () =>
                {
                    go.Wait();
                    try
                    {
                        return (Won: (IncidentFreezeRecord?)await s.Freezes.StartAsync("prod", $"round {round}", $"actor-{i}", time.GetUtcNow(), default), Refused: (FreezeAlreadyActiveException?)null);
                    }
                    catch (FreezeAlreadyActiveException refused)
                    {
                        return (Won: null, Refused: refused);
                    }
                })).ToList();
                go.Set();
                var results = await Task.WhenAll(attempts);

                var winner = Assert.Single(results, r => r.Won is not null).Won!;
                Assert.All(results.Where(r => r.Won is null), r => Assert.Equal(winner, r.Refused!.Active));
                Assert.Equal(winner, await stores[round % stores.Count].Freezes.ActiveAsync("prod", default));
                Assert.Equal(winner.Id, (await stores[(round + 1) % stores.Count].Freezes.StopAsync("prod", "ops", time.GetUtcNow(), default))!.Id);
            }

            Assert.Equal(5, (await first.Freezes.ListAsync(100, default)).Count);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_run_note_keeps_the_state_appends_an_event_and_refuses_a_stale_expected_state()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var created = await store.Runs.CreateAsync("r1", "network", "prod", "queued", "alice", default);
        time.Advance(TimeSpan.FromSeconds(7));
        var note = await store.Runs.AppendNoteAsync("r1", "queued", "airlock", "waiting in queue behind run r0", default);
        Assert.Equal(("queued", "queued", "airlock", "waiting in queue behind run r0", time.GetUtcNow()), (note.From, note.To, note.Actor, note.Detail, note.At));

        var run = (await store.Runs.GetAsync("r1", default))!;
        Assert.Equal("queued", run.State);
        Assert.Equal(created.CreatedAt, run.CreatedAt);
        Assert.Equal(time.GetUtcNow(), run.UpdatedAt);
        var events = await store.Runs.ReadEventsAsync("r1", default);
        Assert.Equal(note, events[^1]);
        Assert.Equal(2, events.Count);

        var conflict = await Assert.ThrowsAsync<RunStateConflictException>(() => store.Runs.AppendNoteAsync("r1", "applying", "airlock", "throttled", default));
        Assert.Contains("queued", conflict.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RunStateConflictException>(() => store.Runs.AppendNoteAsync("ghost", "queued", "airlock", "x", default));
        Assert.Equal(2, (await store.Runs.ReadEventsAsync("r1", default)).Count);
        Assert.Empty(await store.Runs.ReadEventsAsync("ghost", default));
    }

    [Fact]
    public async Task The_first_cancel_request_of_a_run_stands_and_is_read_back()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var now = time.GetUtcNow();
        Assert.Null(await store.Runs.GetCancelRequestAsync("r1", default));

        var first = new RunCancelRequest("r1", "carol", "wrong change window", now);
        Assert.True(await store.Runs.RequestCancelAsync(first, default));
        Assert.False(await store.Runs.RequestCancelAsync(first with { Actor = "bob", Reason = "second thoughts", RequestedAt = now.AddMinutes(1) }, default));

        Assert.Equal(first, await store.Runs.GetCancelRequestAsync("r1", default));
        Assert.Null(await store.Runs.GetCancelRequestAsync("r2", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Runs.RequestCancelAsync(new RunCancelRequest("r2", " ", "why", now), default));
        Assert.Null(await store.Runs.GetCancelRequestAsync("r2", default));
    }

    [Fact]
    public async Task Run_details_are_created_replaced_and_read_back()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Runs.CreateAsync("r1", "network", "prod", "queued", "alice", default);
        Assert.Null(await store.Runs.GetDetailsAsync("r1", default));

        var initial = new RunDetails("r1", "p1", "alice", 1, null, null, null, "{}");
        await store.Runs.SaveDetailsAsync(initial, default);
        Assert.Equal(initial, await store.Runs.GetDetailsAsync("r1", default));

        var failed = new RunDetails("r1", "p1", "alice", 2, "provider_throttled", "apply throttled by the provider after 3 retries", 42, "{\"break_glass\":false}");
        await store.Runs.SaveDetailsAsync(failed, default);
        Assert.Equal(failed, await store.Runs.GetDetailsAsync("r1", default));
        Assert.Null(await store.Runs.GetDetailsAsync("r2", default));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.Runs.SaveDetailsAsync(failed with { DetailJson = "[1]" }, default));
        Assert.Contains("JSON object", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => store.Runs.SaveDetailsAsync(failed with { DetailJson = "{not json" }, default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Runs.SaveDetailsAsync(failed with { Attempt = 0 }, default));
        Assert.Equal(failed, await store.Runs.GetDetailsAsync("r1", default));
    }

    [Fact]
    public async Task Runs_of_a_plan_are_listed_newest_first_from_their_details()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        await store.Runs.CreateAsync("r1", "network", "prod", "failed", "alice", default);
        await store.Runs.SaveDetailsAsync(new RunDetails("r1", "p1", "alice", 1, null, null, null, "{}"), default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Runs.CreateAsync("r2", "network", "prod", "queued", "bob", default);
        await store.Runs.SaveDetailsAsync(new RunDetails("r2", "p2", "bob", 1, null, null, null, "{}"), default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Runs.CreateAsync("r3", "network", "prod", "succeeded", "carol", default);
        await store.Runs.SaveDetailsAsync(new RunDetails("r3", "p1", "carol", 1, null, null, null, "{}"), default);
        // A run without details is about no plan yet.
        await store.Runs.CreateAsync("r4", "network", "prod", "requested", "dave", default);

        var ofP1 = await store.Runs.ListForPlanAsync("p1", default);
        Assert.Equal(["r3", "r1"], ofP1.Select(r => r.Id));
        Assert.Equal("succeeded", ofP1[0].State);
        Assert.Equal(["r2"], (await store.Runs.ListForPlanAsync("p2", default)).Select(r => r.Id));
        Assert.Empty(await store.Runs.ListForPlanAsync("p3", default));
    }

    [Fact]
    public async Task Finished_runs_come_with_their_failure_class_and_plan_commit_filtered_by_state_environment_and_time()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var artifact = new byte[] { 1, 2, 3 };
        await store.Plans.SaveAsync(new NewPlan("p1", "network", "prod", "c1", "sha256:a", time.GetUtcNow().AddHours(1), "{}"), artifact, default);
        await store.Runs.CreateAsync("old", "network", "prod", "succeeded", "alice", default);
        time.Advance(TimeSpan.FromHours(2));
        var since = time.GetUtcNow();
        await store.Runs.CreateAsync("ok", "network", "prod", "succeeded", "alice", default);
        await store.Runs.SaveDetailsAsync(new RunDetails("ok", "p1", "alice", 1, null, null, null, "{}"), default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Runs.CreateAsync("bad", "network", "prod", "failed", "bob", default);
        await store.Runs.SaveDetailsAsync(new RunDetails("bad", "p-gone", "bob", 1, "partial_mutation", "x", null, "{}"), default);
        await store.Runs.CreateAsync("dev", "network", "dev", "failed", "bob", default);
        await store.Runs.CreateAsync("busy", "network", "prod", "applying", "carol", default);

        var all = await store.Runs.ListFinishedAsync(["succeeded", "failed"], null, since, 10, default);
        Assert.Equal(["dev", "bad", "ok"], all.Select(f => f.Run.Id));
        Assert.Equal(new FinishedRun(all[2].Run, null, "p1", "c1"), all[2]);
        Assert.Equal(("partial_mutation", "p-gone", (string?)null), (all[1].FailureClass, all[1].PlanId, all[1].Commit));
        Assert.Equal((null, null, null), (all[0].FailureClass, all[0].PlanId, all[0].Commit));
        Assert.Equal(["bad", "ok"], (await store.Runs.ListFinishedAsync(["succeeded", "failed"], "prod", since, 10, default)).Select(f => f.Run.Id));
        Assert.Equal(["dev"], (await store.Runs.ListFinishedAsync(["succeeded", "failed"], null, since, 1, default)).Select(f => f.Run.Id));
        Assert.Equal(["ok", "old"], (await store.Runs.ListFinishedAsync(["succeeded"], null, since.AddHours(-3), 10, default)).Select(f => f.Run.Id));
        Assert.Empty(await store.Runs.ListFinishedAsync([], null, since, 10, default));
    }

    [Fact]
    public async Task Runs_are_listed_newest_first_filtered_and_limited()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        // Same-instant creations (b, c) are ordered by id, descending.
        await store.Runs.CreateAsync("a", "network", "prod", "queued", "alice", default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Runs.CreateAsync("b", "app", "prod", "queued", "alice", default);
        await store.Runs.CreateAsync("c", "network", "staging", "queued", "alice", default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Runs.CreateAsync("d", "network", "prod", "queued", "alice", default);
        // A later update does not move a run in the listing: creation time orders it.
        await store.Runs.TransitionAsync("a", "queued", "validating", "airlock", "x", default);

        Assert.Equal(["d", "c", "b", "a"], (await store.Runs.ListAsync(new RunQuery(), default)).Select(r => r.Id));
        Assert.Equal(["d", "c"], (await store.Runs.ListAsync(new RunQuery(Limit: 2), default)).Select(r => r.Id));
        Assert.Equal(["d", "c", "a"], (await store.Runs.ListAsync(new RunQuery(Stack: "network"), default)).Select(r => r.Id));
        Assert.Equal(["d", "b", "a"], (await store.Runs.ListAsync(new RunQuery(Environment: "prod"), default)).Select(r => r.Id));
        var both = await store.Runs.ListAsync(new RunQuery("network", "prod", 1), default);
        Assert.Equal("d", Assert.Single(both).Id);
        Assert.Equal("validating", (await store.Runs.ListAsync(new RunQuery("network", "prod"), default))[1].State);
        Assert.Empty(await store.Runs.ListAsync(new RunQuery(Stack: "dns"), default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Runs.ListAsync(new RunQuery(Limit: 0), default));
    }

    [Fact]
    public async Task ClaimItem_claims_the_head_and_refuses_any_other_item()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 5);
        var first = await store.Queues.EnqueueAsync(queue, Item("r1"), default);
        var second = await store.Queues.EnqueueAsync(queue, Item("r2"), default);
        var elsewhere = await store.Queues.EnqueueAsync(Queue("other"), Item("r3"), default);

        Assert.Null(await store.Queues.ClaimItemAsync(queue, second.Id, "w", default));
        Assert.Null(await store.Queues.ClaimItemAsync(queue, elsewhere.Id, "w", default));
        Assert.Equal(QueueItemState.Waiting, (await store.Queues.GetAsync(second.Id, default))!.State);

        var claimed = await store.Queues.ClaimItemAsync(queue, first.Id, "cli-r1", default);
        Assert.Equal((first.Id, QueueItemState.Claimed, "cli-r1"), (claimed!.Id, claimed.State, claimed.ClaimedBy));
        Assert.Null(await store.Queues.ClaimItemAsync(queue, first.Id, "again", default));
        // With room left, the second item is now the head.
        Assert.Equal(second.Id, (await store.Queues.ClaimItemAsync(queue, second.Id, "cli-r2", default))!.Id);
        Assert.Null(await store.Queues.ClaimItemAsync(queue, 999_999, "w", default));
    }

    [Fact]
    public async Task ClaimItem_refuses_a_held_item_and_the_item_behind_it_becomes_the_head()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 5);
        var held = await store.Queues.EnqueueAsync(queue, Item("r1", hold: "waiting for approval"), default);
        var next = await store.Queues.EnqueueAsync(queue, Item("r2"), default);
        Assert.Null(await store.Queues.ClaimItemAsync(queue, held.Id, "w", default));
        Assert.Equal(next.Id, (await store.Queues.ClaimItemAsync(queue, next.Id, "w", default))!.Id);
        Assert.True(await store.Queues.SetHoldAsync(held.Id, null, default));
        Assert.Equal(held.Id, (await store.Queues.ClaimItemAsync(queue, held.Id, "w", default))!.Id);
    }

    [Fact]
    public async Task ClaimItem_respects_the_concurrency_limit_until_the_claimed_item_completes()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue("prod-network", concurrency: 1);
        var first = await store.Queues.EnqueueAsync(queue, Item("r1"), default);
        var second = await store.Queues.EnqueueAsync(queue, Item("r2"), default);
        Assert.NotNull(await store.Queues.ClaimItemAsync(queue, first.Id, "w", default));
        Assert.Null(await store.Queues.ClaimItemAsync(queue, second.Id, "w", default));
        Assert.True(await store.Queues.CompleteAsync(first.Id, "succeeded", default));
        Assert.Equal(second.Id, (await store.Queues.ClaimItemAsync(queue, second.Id, "w", default))!.Id);
    }

    [Fact]
    public async Task ClaimItem_on_a_keyed_queue_lets_another_key_through_while_one_key_is_full()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 1, key: "service");
        var api1 = await store.Queues.EnqueueAsync(queue, Item("api-1", key: "api"), default);
        var api2 = await store.Queues.EnqueueAsync(queue, Item("api-2", key: "api"), default);
        var web1 = await store.Queues.EnqueueAsync(queue, Item("web-1", key: "web"), default);
        Assert.Null(await store.Queues.ClaimItemAsync(queue, web1.Id, "w", default));
        Assert.NotNull(await store.Queues.ClaimItemAsync(queue, api1.Id, "w", default));
        Assert.Null(await store.Queues.ClaimItemAsync(queue, api2.Id, "w", default));
        Assert.Equal(web1.Id, (await store.Queues.ClaimItemAsync(queue, web1.Id, "w", default))!.Id);
    }

    [Fact]
    public async Task ClaimItem_honours_priority_an_emergency_item_enqueued_later_is_the_head()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 1);
        var standard = await store.Queues.EnqueueAsync(queue, Item("s1"), default);
        var emergency = await store.Queues.EnqueueAsync(queue, Item("e1", "emergency"), default);
        Assert.Null(await store.Queues.ClaimItemAsync(queue, standard.Id, "w", default));
        Assert.Equal(emergency.Id, (await store.Queues.ClaimItemAsync(queue, emergency.Id, "w", default))!.Id);
        Assert.Null(await store.Queues.ClaimItemAsync(queue, standard.Id, "w", default));
        Assert.True(await store.Queues.CompleteAsync(emergency.Id, "succeeded", default));
        Assert.Equal(standard.Id, (await store.Queues.ClaimItemAsync(queue, standard.Id, "w", default))!.Id);
    }

    [Fact]
    public async Task Racing_claimers_of_their_own_items_never_exceed_the_limit_and_only_the_head_wins()
    {
        var (store, _, _) = await Backend.FreshAsync();
        await using var _s = store;
        var queue = Queue(concurrency: 1);
        var items = new List<QueueItem>();
        for (var i = 0; i < 6; i++)
        {
            items.Add(await store.Queues.EnqueueAsync(queue, Item($"r{i}"), default));
        }

        using var go = new ManualResetEventSlim();
        var claims = items.Select(item => Task.Run(async () =>
        {
            go.Wait();
            return await store.Queues.ClaimItemAsync(queue, item.Id, $"cli-{item.RunId}", default);
        })).ToList();
        go.Set();
        var claimed = Assert.Single(await Task.WhenAll(claims), c => c is not null);
        Assert.Equal(items[0].Id, claimed!.Id);
        Assert.Single(await store.Queues.ListActiveAsync(default), i => i.State == QueueItemState.Claimed);
    }

    [Fact]
    public async Task A_version_1_database_upgrades_to_the_latest_keeping_its_rows_and_re_running_is_a_no_op()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var target = await Backend.NewTargetAsync();
        var dialect = Backend.Dialect(target);
        try
        {
            Assert.Equal(1, await Migrations.ApplyAsync(dialect, time, 1, default));
            await using var connection = await dialect.OpenAsync(default);
            foreach (var sql in new[]
            {
                "INSERT INTO runs (id, stack, environment, state, created_at, updated_at) VALUES ('old-run', 'network', 'prod', 'succeeded', 1000, 2000)",
                "INSERT INTO run_events (run_id, from_state, to_state, at, actor, detail) VALUES ('old-run', NULL, 'succeeded', 1000, 'alice', 'run created')",
                "INSERT INTO approvals (plan_id, approver, decision, decided_at, valid_until, binding_json) VALUES ('old-plan', 'bob', 'approved', 1000, 9000, '{}')",
                """
                INSERT INTO queue_items (queue, run_id, environment, stack, priority_class, priority_rank, required_locks, state, enqueued_at, claimed_at, claimed_by)
                VALUES ('prod-network', 'old-run', 'prod', 'network', 'standard', 0, '[]', 'claimed', 500, 1000, 'old-worker')
                """,
            })
            {
                await using var command = StoreInternals.Command(connection, sql, []);
                await command.ExecuteNonQueryAsync();
            }

            // The version-2 tables do not exist yet: this really is a version-1 database.
            await using var probe = StoreInternals.Command(connection, "SELECT COUNT(*) FROM incident_freezes", []);
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => probe.ExecuteScalarAsync());
        }
        finally
        {
            await dialect.DisposeAsync();
        }

        await using (var upgraded = await Backend.OpenAsync(target, time))
        {
            Assert.Equal(Migrations.LatestVersion, upgraded.SchemaVersion);
            var run = Assert.Single(await upgraded.Runs.ListAsync(new RunQuery(), default));
            Assert.Equal(new RunRecord("old-run", "network", "prod", "succeeded", DateTimeOffset.FromUnixTimeMilliseconds(1000), DateTimeOffset.FromUnixTimeMilliseconds(2000)), run);
            Assert.Equal("alice", Assert.Single(await upgraded.Runs.ReadEventsAsync("old-run", default)).Actor);
            Assert.Equal("bob", Assert.Single(await upgraded.Approvals.ListForPlanAsync("old-plan", default)).Approver);
            // The version-2 tables work on the upgraded database.
            await upgraded.Freezes.StartAsync("prod", "upgrade test", "alice", time.GetUtcNow(), default);
            await upgraded.Runs.SaveDetailsAsync(new RunDetails("old-run", "old-plan", "alice", 1, null, "applied", null, "{}"), default);
            Assert.Equal(AllVersions(), await SchemaVersionsAsync(upgraded));
            // A claim made before claim leases gets the default lease from its claim time, so a pre-upgrade crash
            // does not block its queue for ever.
            var oldClaim = Assert.Single(await upgraded.Queues.ListActiveAsync(default));
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1000) + QueueItem.DefaultClaimLease, oldClaim.ClaimedUntil);
            Assert.True(oldClaim.IsAbandonedAt(time.GetUtcNow()));
        }

        await using var reopened = await Backend.OpenAsync(target, time);
        Assert.Equal(Migrations.LatestVersion, reopened.SchemaVersion);
        Assert.Equal(AllVersions(), await SchemaVersionsAsync(reopened));
        Assert.Equal("upgrade test", (await reopened.Freezes.ActiveAsync("prod", default))!.Reason);
        Assert.Equal("applied", (await reopened.Runs.GetDetailsAsync("old-run", default))!.Statement);
        // Asking for an older version never downgrades.
        Assert.Equal(Migrations.LatestVersion, await Migrations.ApplyAsync(reopened.Dialect, time, 1, default));
        Assert.Equal(AllVersions(), await SchemaVersionsAsync(reopened));
    }

    // Every version this build knows, 1..latest: no test hard-codes how many there are.
    private static List<long> AllVersions() => [.. Enumerable.Range(1, Migrations.LatestVersion).Select(v => (long)v)];

    private static async Task<List<long>> SchemaVersionsAsync(SqlAirlockStore store)
    {
        await using var connection = await StoreInternals.OpenAsync(store);
        await using var command = StoreInternals.Command(connection, "SELECT version FROM airlock_schema ORDER BY version", []);
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<long>();
        while (await reader.ReadAsync())
        {
            versions.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        }

        return versions;
    }
}
