using Airlock.Domain.Locks;
using Airlock.Domain.Queues;

namespace Airlock.Domain.Tests.Queues;

public sealed class QueueRulesTests
{
    private static readonly QueueDefinition ProdNetwork = new("prod-network", new QueueMatch("prod", ["network"]), 1, null, [], StalePlanPolicy.Replan);
    private static readonly QueueDefinition ProdApps = new("prod-apps", new QueueMatch("prod", []), 5, "service", ["emergency", "standard"], StalePlanPolicy.Fail);

    private static QueueItem Item(long id, string run, int rank = 1, string? key = null, string? hold = null, QueueItemState state = QueueItemState.Waiting) =>
        new(id, "q", run, "prod", "app", rank == 0 ? "emergency" : "standard", rank, key, [], hold, state, DateTimeOffset.UnixEpoch, null, null, null, null);

    [Theory]
    [InlineData("prod", "network", "prod-network")]
    [InlineData("prod", "payments", "prod-apps")]
    [InlineData("stage", "network", null)]
    public void A_queue_naming_the_stack_beats_an_environment_wide_one(string environment, string stack, string? expected)
    {
        // prod-apps is declared first on purpose: specificity, not order, decides.
        Assert.Equal(expected, QueueMatcher.Match([ProdApps, ProdNetwork], environment, stack)?.Name);
    }

    [Fact]
    public void Priority_ranks_follow_the_declared_classes_and_default_to_standard()
    {
        Assert.Equal(0, ProdApps.PriorityRank("emergency"));
        Assert.Equal(1, ProdApps.PriorityRank("standard"));
        Assert.Equal(0, ProdNetwork.PriorityRank("standard"));
        Assert.Throws<ArgumentException>(() => ProdNetwork.PriorityRank("emergency"));
        Assert.Throws<ArgumentException>(() => (ProdNetwork with { Concurrency = 0 }).Validate());
    }

    [Fact]
    public void An_unkeyed_queue_at_its_limit_claims_nothing_and_skips_held_items_otherwise()
    {
        var waiting = new[] { Item(1, "held", hold: "waiting for approval"), Item(2, "free") };
        Assert.Null(QueueSelection.PickNext(ProdNetwork, waiting, new Dictionary<string, int> { [""] = 1 }));
        Assert.Equal("free", QueueSelection.PickNext(ProdNetwork, waiting, new Dictionary<string, int>())!.RunId);
    }

    [Fact]
    public void A_keyed_queue_passes_over_keys_at_their_limit()
    {
        var queue = ProdApps with { Concurrency = 1 };
        var waiting = new[] { Item(1, "api-2", key: "api"), Item(2, "web-1", key: "web") };
        Assert.Equal("web-1", QueueSelection.PickNext(queue, waiting, new Dictionary<string, int> { ["api"] = 1 })!.RunId);
        Assert.Null(QueueSelection.PickNext(queue, waiting, new Dictionary<string, int> { ["api"] = 1, ["web"] = 1 }));
    }

    [Fact]
    public void The_board_explains_a_freeze_first_and_marks_the_next_item()
    {
        var now = DateTimeOffset.UnixEpoch.AddMinutes(10);
        var freeze = LockKey.Freeze("prod");
        var frozen = Item(1, "frozen") with { Queue = "prod-network", RequiredLocks = [freeze], HoldReason = "waiting for approval" };
        var next = Item(2, "next") with { Queue = "prod-network" };
        var later = Item(3, "later") with { Queue = "prod-network" };
        var freezeLease = new LockLease(freeze, new LockHolder("freeze-1", "cab", "year-end freeze", now.AddHours(-1), now.AddDays(3)), 7);
        var view = Assert.Single(QueueBoard.Build([later, frozen, next], [ProdNetwork], [freezeLease], now));
        Assert.Equal("freeze freeze:prod by cab: year-end freeze", view.Waiting[0].BlockedReason);
        Assert.Equal("ready: next to be claimed", view.Waiting[1].BlockedReason);
        Assert.Equal("behind earlier items", view.Waiting[2].BlockedReason);
        Assert.Equal(TimeSpan.FromMinutes(10), view.Waiting[0].Age);

        var unknown = Assert.Single(QueueBoard.Build([next], [], [], now));
        Assert.Null(unknown.Concurrency);
        Assert.Equal("waiting (queue limits not loaded)", unknown.Waiting[0].BlockedReason);
    }

    [Fact]
    public void A_stacks_implicit_queue_shows_its_limit_of_one_without_configuration()
    {
        var now = DateTimeOffset.UnixEpoch.AddMinutes(10);
        var running = Item(1, "running") with { Queue = "dev/site", Environment = "dev", Stack = "site", State = QueueItemState.Claimed, ClaimedBy = "running", ClaimedAt = now, ClaimedUntil = now.AddMinutes(2) };
        var waiting = Item(2, "waiting") with { Queue = "dev/site", Environment = "dev", Stack = "site" };

        var view = Assert.Single(QueueBoard.Build([running, waiting], [], [], now));

        Assert.Equal(1, view.Concurrency);
        Assert.Equal("queue at concurrency limit (1/1), running: running", view.Waiting[0].BlockedReason);
        Assert.Equal(QueueDefinition.ImplicitFor("dev", "site").Name, view.Queue);
    }
}
