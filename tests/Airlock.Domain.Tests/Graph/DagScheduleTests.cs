using Airlock.Domain.Config;
using Airlock.Domain.Graph;

namespace Airlock.Domain.Tests.Graph;

public class DagScheduleTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    // a(3) → c(4) → e(5); a → d(1); b(2) → d. Bottom levels: e 5, c 9, d 1, a 12, b 3. Critical path a-c-e = 12.
    private static readonly string[] ForkNodes = ["a", "b", "c", "d", "e"];
    private static readonly (string, string)[] ForkEdges = [("c", "a"), ("d", "a"), ("d", "b"), ("e", "c")];
    private static readonly Dictionary<string, TimeSpan> ForkEstimates = new() { ["a"] = S(3), ["b"] = S(2), ["c"] = S(4), ["d"] = S(1), ["e"] = S(5) };

    private static DagSchedule Fork() => new(ForkNodes, ForkEdges, ForkEstimates);

    [Fact]
    public void Ready_nodes_come_longest_remaining_path_first_then_by_name()
    {
        // The chain z1 → z2 is long; a and b are short. By name a and b would go first; by critical path z1 does.
        var schedule = new DagSchedule(["a", "b", "z1", "z2"], [("z2", "z1")], new Dictionary<string, TimeSpan> { ["a"] = S(2), ["b"] = S(2), ["z1"] = S(1), ["z2"] = S(10) });
        Assert.Equal(["z1", "a", "b"], schedule.Ready());
        Assert.Equal(S(11), schedule.PriorityOf("z1"));
        Assert.Equal(S(2), schedule.PriorityOf("a"));

        // Without estimates every node counts the same: priority is the longest chain by node count.
        var unestimated = new DagSchedule(["m", "b", "c", "a"], [("b", "a"), ("c", "b")]);
        Assert.Equal(["a", "m"], unestimated.Ready());
        Assert.Equal(DagSchedule.DefaultEstimate * 3, unestimated.PriorityOf("a"));
    }

    [Fact]
    public void A_node_becomes_ready_only_when_every_prerequisite_succeeded()
    {
        var schedule = Fork();
        Assert.Equal(["a", "b"], schedule.Ready());
        schedule.Start("a");
        Assert.Equal(["b"], schedule.Ready());
        Assert.Equal(DagNodeState.Running, schedule.StateOf("a"));
        Assert.Equal(["c"], schedule.Succeed("a"));
        Assert.Equal(["c", "b"], schedule.Ready());
        schedule.Start("b");
        Assert.Equal(["d"], schedule.Succeed("b"));
        Assert.Equal(["c", "d"], schedule.Ready());
        schedule.Start("d");
        schedule.Start("c");
        Assert.Equal(2, schedule.RunningCount);
        schedule.Succeed("d");
        Assert.False(schedule.IsFinished);
        schedule.Succeed("c");
        schedule.Start("e");
        schedule.Succeed("e");
        Assert.True(schedule.IsFinished);
        Assert.All(ForkNodes, n => Assert.Equal(DagNodeState.Succeeded, schedule.StateOf(n)));
    }

    [Fact]
    public void A_failure_skips_every_transitive_dependant_and_leaves_siblings_runnable()
    {
        // a → c → e, a → d ← b, plus an unrelated x.
        var schedule = new DagSchedule([.. ForkNodes, "x"], ForkEdges, ForkEstimates);
        schedule.Start("a");
        schedule.Start("b");
        Assert.Equal(["c", "d", "e"], schedule.Fail("a"));
        Assert.Equal(DagNodeState.Failed, schedule.StateOf("a"));
        Assert.All(["c", "d", "e"], n => Assert.Equal(DagNodeState.Skipped, schedule.StateOf(n)));
        Assert.Equal(["x"], schedule.Ready());
        Assert.Empty(schedule.Succeed("b")); // d is skipped, not made ready by its other prerequisite
        Assert.Equal(DagNodeState.Skipped, schedule.StateOf("d"));
        Assert.False(schedule.IsFinished);
        schedule.Start("x");
        schedule.Succeed("x");
        Assert.True(schedule.IsFinished);
    }

    [Fact]
    public void Illegal_transitions_are_refused_with_the_reason()
    {
        var schedule = Fork();
        Assert.Contains("waiting for a", Assert.Throws<InvalidOperationException>(() => schedule.Start("c")).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => schedule.Succeed("a"));
        Assert.Throws<InvalidOperationException>(() => schedule.Fail("b"));
        schedule.Start("a");
        Assert.Contains("running", Assert.Throws<InvalidOperationException>(() => schedule.Start("a")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => schedule.StateOf("nope"));
        Assert.Equal(DagNodeState.Running, schedule.StateOf("a"));
    }

    [Fact]
    public void Cycles_self_edges_duplicates_and_unknown_nodes_are_rejected()
    {
        var cycle = Assert.Throws<ArgumentException>(() => new DagSchedule(["a", "b", "c", "d"], [("b", "a"), ("c", "b"), ("b", "c"), ("d", "a")]));
        Assert.Contains("cycle", cycle.Message, StringComparison.Ordinal);
        Assert.Contains("b, c", cycle.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("d", cycle.Message.Split(':')[1], StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new DagSchedule(["a"], [("a", "a")]));
        Assert.Throws<ArgumentException>(() => new DagSchedule(["a", "a"], []));
        Assert.Throws<ArgumentException>(() => new DagSchedule(["a"], [("a", "ghost")]));
        Assert.Throws<ArgumentException>(() => new DagSchedule(["a"], [], new Dictionary<string, TimeSpan> { ["ghost"] = S(1) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DagSchedule(["a"], [], new Dictionary<string, TimeSpan> { ["a"] = S(-1) }));
    }

    [Fact]
    public void Bounds_match_hand_computed_schedules()
    {
        Assert.Equal(S(12), DagSchedule.CriticalPathBound(ForkNodes, ForkEdges, ForkEstimates));
        // One worker: the sum of all estimates.
        Assert.Equal(S(15), DagSchedule.ListScheduleBound(ForkNodes, ForkEdges, ForkEstimates, 1));
        // Two workers: a,b at 0; c,d at 3; e at 7 → 12, the critical path.
        Assert.Equal(S(12), DagSchedule.ListScheduleBound(ForkNodes, ForkEdges, ForkEstimates, 2));
        Assert.Equal(S(12), DagSchedule.ListScheduleBound(ForkNodes, ForkEdges, ForkEstimates, 0));

        // Three independent 4 s nodes: two workers need 8 s, unlimited 4 s.
        var three = new Dictionary<string, TimeSpan> { ["x"] = S(4), ["y"] = S(4), ["z"] = S(4) };
        Assert.Equal(S(8), DagSchedule.ListScheduleBound(three.Keys, [], three, 2));
        Assert.Equal(S(4), DagSchedule.ListScheduleBound(three.Keys, [], three, -1));
        Assert.Equal(S(4), DagSchedule.CriticalPathBound(three.Keys, [], three));

        // Priority pays off: with two workers the long chain starts first → 11 s (by name alone it would be 13 s).
        var chain = new Dictionary<string, TimeSpan> { ["a"] = S(2), ["b"] = S(2), ["z1"] = S(1), ["z2"] = S(10) };
        Assert.Equal(S(11), DagSchedule.ListScheduleBound(chain.Keys, [("z2", "z1")], chain, 2));
        Assert.Equal(TimeSpan.Zero, DagSchedule.ListScheduleBound([], [], null, 2));
    }

    [Fact]
    public void A_schedule_from_the_stack_graph_keeps_only_edges_between_selected_stacks()
    {
        var config = WorkspaceConfigLoader.Load("""
            version: 1
            project: synthetic
            environments:
              dev: {}
            stacks:
              base: { path: s/base }
              left: { path: s/left, depends_on: [base] }
              right: { path: s/right, depends_on: [base] }
              top: { path: s/top, depends_on: [left, right] }
              solo: { path: s/solo }
            """, "airlock.yaml");
        Assert.True(config.IsValid, string.Join("\n", config.Diagnostics));
        var graph = StackGraph.From(config.Config!, null);

        // base is not selected: left and right need not wait for it.
        var schedule = DagSchedule.FromGraph(graph, ["top", "left", "right", "solo"]);
        Assert.Equal(["left", "right", "solo", "top"], schedule.Nodes.ToArray());
        Assert.Equal(["left", "right"], schedule.PrerequisitesOf("top").ToArray());
        Assert.Empty(schedule.PrerequisitesOf("left"));
        Assert.Equal(["left", "right", "solo"], schedule.Ready());
        Assert.Throws<ArgumentException>(() => schedule.StateOf("base"));
        Assert.Throws<ArgumentException>(() => DagSchedule.FromGraph(graph, ["ghost"]));

        var whole = DagSchedule.FromGraph(graph, graph.Stacks, new Dictionary<string, TimeSpan> { ["base"] = S(10) });
        Assert.Equal(["base", "solo"], whole.Ready());
        Assert.Equal(S(12), whole.CriticalPath);
    }
}
