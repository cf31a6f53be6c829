namespace Airlock.Domain.Runs;

/// <summary>One state change of a run, as recorded in the run's event log.</summary>
public sealed record RunTransition(string RunId, int Attempt, RunState From, RunState To, DateTimeOffset At, string Actor, string Detail);

/// <summary>Raised when code asks for a transition the state machine does not allow: a bug, never a user error.</summary>
public sealed class IllegalRunTransitionException(RunState from, RunState to)
    : InvalidOperationException($"a run cannot go from {from.WireName()} to {to.WireName()}")
{
    /// <summary>The state the run was in.</summary>
    public RunState From { get; } = from;

    /// <summary>The state that was asked for.</summary>
    public RunState To { get; } = to;
}

/// <summary>
/// The single owner of a run's state: it checks every transition against the table of
/// DESIGN.md §3 and produces the event for it. Nothing else changes a run's state.
/// </summary>
public sealed class RunLifecycle
{
    private static readonly Dictionary<RunState, RunState[]> Allowed = new()
    {
        // Every non-final state may end failed: a fault of Airlock or its store, or a lost lease, can happen at any step.
        [RunState.Requested] = [RunState.Validating, RunState.Failed, RunState.Cancelled],
        [RunState.Validating] = [RunState.Queued, RunState.Rejected, RunState.Failed, RunState.Cancelled],
        [RunState.Queued] = [RunState.AcquiringLocks, RunState.Rejected, RunState.Failed, RunState.Cancelled],
        [RunState.AcquiringLocks] = [RunState.Preparing, RunState.Failed, RunState.Cancelled],
        [RunState.Preparing] = [RunState.Planning, RunState.VerifyingSavedPlan, RunState.Failed, RunState.Cancelled],
        [RunState.Planning] = [RunState.PolicyCheck, RunState.Rejected, RunState.Failed, RunState.Cancelled],
        [RunState.VerifyingSavedPlan] = [RunState.PolicyCheck, RunState.Rejected, RunState.Failed, RunState.Cancelled],
        [RunState.PolicyCheck] = [RunState.Applying, RunState.Rejected, RunState.Failed, RunState.Cancelled],
        [RunState.Applying] = [RunState.Verifying, RunState.Failed, RunState.Cancelled, RunState.NeedsReconciliation],
        [RunState.Verifying] = [RunState.Publishing, RunState.Failed, RunState.Cancelled, RunState.NeedsReconciliation],
        [RunState.Publishing] = [RunState.Succeeded, RunState.Failed, RunState.NeedsReconciliation],

        // A person reconciles (refresh / re-plan / inspection) and records what really happened.
        [RunState.NeedsReconciliation] = [RunState.Succeeded, RunState.Failed],
    };

    private readonly TimeProvider time;
    private readonly List<RunTransition> history = [];

    /// <summary>A new run in <see cref="RunState.Requested"/>.</summary>
    public RunLifecycle(string runId, int attempt, TimeProvider time)
        : this(runId, attempt, RunState.Requested, time)
    {
    }

    /// <summary>Resumes a run known to be in <paramref name="current"/> (e.g. read back from the store).</summary>
    public RunLifecycle(string runId, int attempt, RunState current, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        RunId = runId;
        Attempt = attempt;
        State = current;
        this.time = time;
    }

    /// <summary>The run this lifecycle belongs to.</summary>
    public string RunId { get; }

    /// <summary>1 for the first attempt; a retry is a new attempt with its own events.</summary>
    public int Attempt { get; }

    /// <summary>The current state.</summary>
    public RunState State { get; private set; }

    /// <summary>Transitions made through this instance, oldest first.</summary>
    public IReadOnlyList<RunTransition> History => history;

    /// <summary>True when <paramref name="to"/> is a legal next state.</summary>
    public bool CanMoveTo(RunState to) => Allowed.TryGetValue(State, out var next) && next.Contains(to);

    /// <summary>Moves to <paramref name="to"/> and returns the event to append; throws for an illegal transition.</summary>
    public RunTransition MoveTo(RunState to, string actor, string detail = "")
    {
        if (!CanMoveTo(to))
        {
            throw new IllegalRunTransitionException(State, to);
        }

        var transition = new RunTransition(RunId, Attempt, State, to, time.GetUtcNow(), actor, detail);
        State = to;
        history.Add(transition);
        return transition;
    }
}
