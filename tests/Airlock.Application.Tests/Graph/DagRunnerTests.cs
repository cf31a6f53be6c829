using System.Collections.Concurrent;

using Airlock.Application.Graph;
using Airlock.Domain.Graph;

namespace Airlock.Application.Tests.Graph;

public class DagRunnerTests
{
    [Fact]
    public async Task Every_node_starts_only_after_its_prerequisites_finished()
    {
        // Two diamonds joined at the bottom, plus loners.
        string[] nodes = ["a", "b", "c", "d", "e", "f", "g", "h", "solo1", "solo2"];
        (string, string)[] edges = [("b", "a"), ("c", "a"), ("d", "b"), ("d", "c"), ("f", "e"), ("g", "e"), ("h", "f"), ("h", "g"), ("h", "d")];
        var clock = 0;
        var startedAt = new ConcurrentDictionary<string, int>();
        var finishedAt = new ConcurrentDictionary<string, int>();
        var result = await DagRunner.RunAsync(new DagSchedule(nodes, edges), 3, async (node, ct) =>
        {
            startedAt[node] = Interlocked.Increment(ref clock);
            await Task.Delay(10 + (node.Length * 7 % 20), ct);
            finishedAt[node] = Interlocked.Increment(ref clock);
            return true;
        }, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.False(result.Cancelled);
        Assert.Equal(nodes.Order(StringComparer.Ordinal), result.StartOrder.Order(StringComparer.Ordinal));
        foreach (var (node, prerequisite) in edges)
        {
            Assert.True(finishedAt[prerequisite] < startedAt[node], $"{node} started before {prerequisite} finished");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(0, 12)]
    [InlineData(-1, 12)]
    public async Task The_parallelism_limit_is_honoured_and_reached(int parallelism, int expectedMax)
    {
        var nodes = Enumerable.Range(0, 12).Select(i => $"n{i:D2}").ToList();
        var current = 0;
        var max = 0;
        var result = await DagRunner.RunAsync(new DagSchedule(nodes, []), parallelism, async (node, ct) =>
        {
            var now = Interlocked.Increment(ref current);
            int seen;
            while ((seen = Volatile.Read(ref max)) < now && Interlocked.CompareExchange(ref max, now, seen) != seen)
            {
            }

            // Long enough that every node allowed to run at once is still running when the last one starts, even on a loaded machine.
            await Task.Delay(150, ct);
            Interlocked.Decrement(ref current);
            return true;
        }, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(expectedMax, max);
    }

    [Fact]
    public async Task A_failure_skips_its_dependants_and_every_other_branch_finishes()
    {
        // a → b → c; a → d; x → y (unrelated, slow); q returns false → r skipped.
        string[] nodes = ["a", "b", "c", "d", "x", "y", "q", "r"];
        (string, string)[] edges = [("b", "a"), ("c", "b"), ("d", "a"), ("y", "x"), ("r", "q")];
        var ran = new ConcurrentBag<string>();
        var result = await DagRunner.RunAsync(new DagSchedule(nodes, edges), 0, async (node, ct) =>
        {
            ran.Add(node);
            switch (node)
            {
                case "b":
                    await Task.Delay(5, ct);
                    throw new InvalidOperationException("tofu apply failed: boom");
                case "q":
                    return false;
                case "x" or "y":
                    await Task.Delay(150, ct);
                    return true;
                default:
                    await Task.Delay(5, ct);
                    return true;
            }
        }, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(DagNodeState.Failed, result.StateOf("b"));
        Assert.Equal("tofu apply failed: boom", result.FailureOf("b"));
        Assert.Equal(DagNodeState.Failed, result.StateOf("q"));
        Assert.Null(result.FailureOf("q"));
        Assert.True(result.Failures.ContainsKey("q"));
        Assert.Equal(DagNodeState.Skipped, result.StateOf("c"));
        Assert.Equal(DagNodeState.Skipped, result.StateOf("r"));
        Assert.All(["a", "d", "x", "y"], n => Assert.Equal(DagNodeState.Succeeded, result.StateOf(n)));
        Assert.DoesNotContain("c", ran);
        Assert.DoesNotContain("r", ran);
        Assert.Equal(2, result.Failures.Count);
    }

    [Fact]
    public async Task Cancellation_stops_new_starts_and_waits_for_the_running_nodes()
    {
        // first → second → third, plus an independent slow node; two workers.
        using var cancel = new CancellationTokenSource();
        var slowFinished = false;
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var schedule = new DagSchedule(["first", "second", "third", "slow"], [("second", "first"), ("third", "second")],
            new Dictionary<string, TimeSpan> { ["first"] = TimeSpan.FromSeconds(5), ["slow"] = TimeSpan.FromSeconds(1) });
        var run = DagRunner.RunAsync(schedule, 2, async (node, ct) =>
        {
            if (node == "first")
            {
                firstStarted.SetResult();
                await Task.Delay(100, CancellationToken.None); // ignores the token: the runner must wait for it anyway
                return true;
            }

            // A node that honours the token ends early, as a failure.
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
            slowFinished = true;
            return true;
        }, cancel.Token);

        await firstStarted.Task;
        await cancel.CancelAsync();
        var result = await run;

        Assert.True(result.Cancelled);
        Assert.Equal(["first", "slow"], result.StartOrder.ToArray());
        Assert.Equal(DagNodeState.Succeeded, result.StateOf("first"));
        Assert.Equal(DagNodeState.Failed, result.StateOf("slow"));
        Assert.False(slowFinished);
        Assert.Contains("cancel", result.FailureOf("slow"), StringComparison.OrdinalIgnoreCase);
        // "second" became ready when "first" succeeded, after cancellation: it was not started.
        Assert.Equal(DagNodeState.Pending, result.StateOf("second"));
        Assert.Equal(DagNodeState.Pending, result.StateOf("third"));
    }

    [Fact]
    public async Task With_one_worker_nodes_start_in_critical_path_order()
    {
        // By name a and b would go first; the long chain z1 → z2 bounds the makespan, so it starts first.
        var schedule = new DagSchedule(["a", "b", "z1", "z2"], [("z2", "z1")],
            new Dictionary<string, TimeSpan> { ["a"] = TimeSpan.FromSeconds(2), ["b"] = TimeSpan.FromSeconds(2), ["z1"] = TimeSpan.FromSeconds(1), ["z2"] = TimeSpan.FromSeconds(10) });
        var result = await DagRunner.RunAsync(schedule, 1, async (_, ct) =>
        {
            await Task.Yield();
            return true;
        }, CancellationToken.None);
        Assert.Equal(["z1", "z2", "a", "b"], result.StartOrder.ToArray());
    }

    [Fact]
    public async Task An_already_cancelled_run_starts_nothing()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        var ran = 0;
        var result = await DagRunner.RunAsync(new DagSchedule(["a", "b"], [("b", "a")]), 0, (_, _) =>
        {
            Interlocked.Increment(ref ran);
            return Task.FromResult(true);
        }, cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(0, ran);
        Assert.Empty(result.StartOrder);
        Assert.All(result.States.Values, s => Assert.Equal(DagNodeState.Pending, s));
    }

    [Fact]
    public async Task A_schedule_that_already_ran_is_refused()
    {
        var schedule = new DagSchedule(["a"], []);
        Assert.True((await DagRunner.RunAsync(schedule, 1, (_, _) => Task.FromResult(true), CancellationToken.None)).Succeeded);
        await Assert.ThrowsAsync<ArgumentException>(() => DagRunner.RunAsync(schedule, 1, (_, _) => Task.FromResult(true), CancellationToken.None));
    }
}
