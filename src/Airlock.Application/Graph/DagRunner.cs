using System.Collections.Immutable;
using System.Threading.Channels;

using Airlock.Domain.Graph;

namespace Airlock.Application.Graph;

/// <summary>How a DAG run ended: every node's final state, why failed ones failed, and the order nodes started in.</summary>
/// <param name="States">Every node's state; nodes never started because of cancellation stay <see cref="DagNodeState.Pending"/>.</param>
/// <param name="Failures">Failed nodes → the exception message, or null when the work returned false.</param>
/// <param name="StartOrder">Nodes in the order they were started.</param>
/// <param name="Cancelled">True when cancellation left nodes unstarted.</param>
public sealed record DagRunResult(
    ImmutableDictionary<string, DagNodeState> States,
    ImmutableDictionary<string, string?> Failures,
    ImmutableArray<string> StartOrder,
    bool Cancelled)
{
    /// <summary>True when every node succeeded.</summary>
    public bool Succeeded => States.Values.All(s => s == DagNodeState.Succeeded);

    /// <summary>The state of <paramref name="node"/>.</summary>
    public DagNodeState StateOf(string node) => States[node];

    /// <summary>Why <paramref name="node"/> failed (null when it returned false or did not fail).</summary>
    public string? FailureOf(string node) => Failures.GetValueOrDefault(node);
}

/// <summary>
/// Runs the work of a <see cref="DagSchedule"/>: ready nodes start in the schedule's priority order, up to a
/// parallelism limit; a failure skips its dependants only, so unrelated branches always finish.
/// </summary>
public static class DagRunner
{
    /// <summary>
    /// Runs every node of <paramref name="schedule"/> (which must be fresh: all nodes pending) with
    /// <paramref name="work"/>. A node fails when its work returns false or throws (the message is recorded).
    /// Cancelling <paramref name="ct"/> stops starting new nodes and waits for the running ones (which receive
    /// the same token); the result then says <see cref="DagRunResult.Cancelled"/>. Never throws for a node's failure.
    /// </summary>
    /// <param name="schedule">The schedule; this run drives it, nobody else may meanwhile.</param>
    /// <param name="parallelism">Most nodes running at once; 0 or less = unlimited.</param>
    /// <param name="work">The work of one node.</param>
    /// <param name="ct">Stops new starts.</param>
    public static async Task<DagRunResult> RunAsync(DagSchedule schedule, int parallelism, Func<string, CancellationToken, Task<bool>> work, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(work);
        if (schedule.Nodes.Any(n => schedule.StateOf(n) != DagNodeState.Pending))
        {
            throw new ArgumentException("the schedule has already been run: every node must be pending", nameof(schedule));
        }

        // Finished nodes report here; only this loop touches the schedule, so it needs no lock.
        var finished = Channel.CreateUnbounded<(string Node, bool Ok, string? Error)>(new UnboundedChannelOptions { SingleReader = true });
        var failures = ImmutableDictionary.CreateBuilder<string, string?>(StringComparer.Ordinal);
        var started = ImmutableArray.CreateBuilder<string>(schedule.Nodes.Length);
        var cancelled = false;
        while (true)
        {
            if (ct.IsCancellationRequested)
            {
                cancelled = true;
            }
            else
            {
                foreach (var node in schedule.Ready())
                {
                    if (parallelism > 0 && schedule.RunningCount >= parallelism)
                    {
                        break;
                    }

                    schedule.Start(node);
                    started.Add(node);
                    _ = Task.Run(() => RunNodeAsync(node, work, finished.Writer, ct), CancellationToken.None);
                }
            }

            if (schedule.RunningCount == 0)
            {
                break;
            }

            // Waiting without the token: running nodes are always waited for, cancelled or not.
            var (done, ok, error) = await WaitForNextAsync(finished.Reader, ct).ConfigureAwait(false);
            if (done is null)
            {
                // Woken by cancellation, not by a node: loop to record it and stop starting.
                continue;
            }

            if (ok)
            {
                schedule.Succeed(done);
            }
            else
            {
                failures[done] = error;
                schedule.Fail(done);
            }
        }

        var states = schedule.Nodes.ToImmutableDictionary(n => n, schedule.StateOf, StringComparer.Ordinal);
        return new DagRunResult(states, failures.ToImmutable(), started.ToImmutable(), cancelled && states.Values.Any(s => s == DagNodeState.Pending));
    }

    private static async Task RunNodeAsync(string node, Func<string, CancellationToken, Task<bool>> work, ChannelWriter<(string, bool, string?)> finished, CancellationToken ct)
    {
        bool ok;
        string? error = null;
        try
        {
            ok = await work(node, ct).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Any exception is this node's failure, recorded with its message; it must never stop sibling branches.
            ok = false;
            error = exception.Message;
        }

        finished.TryWrite((node, ok, error));
    }

    // The next finished node, or (null, ...) when cancellation is requested first: the caller then stops starting
    // nodes and comes back here with cancellation already observed, waiting for the running nodes only.
    private static async Task<(string? Node, bool Ok, string? Error)> WaitForNextAsync(ChannelReader<(string Node, bool Ok, string? Error)> reader, CancellationToken ct)
    {
        if (reader.TryRead(out var ready))
        {
            return ready;
        }

        if (!ct.IsCancellationRequested)
        {
            try
            {
                return await reader.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return (null, false, null);
            }
        }

        return await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
