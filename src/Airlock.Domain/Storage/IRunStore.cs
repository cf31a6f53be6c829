namespace Airlock.Domain.Storage;

/// <summary>A run as stored: identity, target and current state.</summary>
/// <param name="Id">Run id.</param>
/// <param name="Stack">Target stack.</param>
/// <param name="Environment">Target environment.</param>
/// <param name="State">Current state name (see DESIGN §3), the wire names of Airlock.Domain.Runs.RunState, e.g. "queued" or "needs_reconciliation".</param>
/// <param name="CreatedAt">When it was requested.</param>
/// <param name="UpdatedAt">Last transition.</param>
/// <param name="Region">Target region, or null when the target has none.</param>
public sealed record RunRecord(string Id, string Stack, string Environment, string State, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Region = null);

/// <summary>One state transition of a run; the log is append-only.</summary>
/// <param name="Id">Store-assigned, increasing.</param>
/// <param name="RunId">The run.</param>
/// <param name="From">Previous state (null for the first event).</param>
/// <param name="To">New state.</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who caused it ("airlock" for the system).</param>
/// <param name="Detail">Human-readable detail.</param>
public sealed record RunEvent(long Id, string RunId, string? From, string To, DateTimeOffset At, string Actor, string Detail);

/// <summary>Thrown when a transition's expected current state does not match the stored one.</summary>
public sealed class RunStateConflictException(string runId, string? expected, string? actual)
    : InvalidOperationException($"run {runId} is in state {actual ?? "(none)"}, not {expected ?? "(none)"}")
{
    /// <summary>The run.</summary>
    public string RunId { get; } = runId;
}

/// <summary>What a run is about and how it ended, beyond its state: written by the apply service.</summary>
/// <param name="RunId">The run.</param>
/// <param name="PlanId">The plan it applies.</param>
/// <param name="RequestedBy">Who asked for the apply.</param>
/// <param name="Attempt">1 for the first attempt.</param>
/// <param name="FailureClass">Wire name of the failure class, once failed.</param>
/// <param name="Statement">One line saying what happened (refusal reason, failure statement, success).</param>
/// <param name="EvidenceSequence">Sequence number of the run's evidence packet in the chain, once written.</param>
/// <param name="DetailJson">Anything else as a JSON object (break-glass, verification results...).</param>
public sealed record RunDetails(string RunId, string PlanId, string RequestedBy, int Attempt, string? FailureClass, string? Statement, long? EvidenceSequence, string DetailJson);

/// <summary>A run in a final or reconciliation state, with what delivery metrics need from its details and plan.</summary>
/// <param name="Run">The run.</param>
/// <param name="FailureClass">Wire name of its failure class, if any.</param>
/// <param name="PlanId">The plan it applied, when its details were saved.</param>
/// <param name="Commit">That plan's commit, when the plan is still stored.</param>
public sealed record FinishedRun(RunRecord Run, string? FailureClass, string? PlanId, string? Commit);

/// <summary>Someone asked a running apply to stop; the process running it polls for this.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Actor">Who asked (already authorised by the environment's cancellation policy).</param>
/// <param name="Reason">Why.</param>
/// <param name="RequestedAt">When.</param>
public sealed record RunCancelRequest(string RunId, string Actor, string Reason, DateTimeOffset RequestedAt);

/// <summary>Which runs to list, newest first.</summary>
/// <param name="Stack">Only this stack.</param>
/// <param name="Environment">Only this environment.</param>
/// <param name="Limit">At most this many.</param>
/// <param name="Region">Only this region (null: any region, including none).</param>
/// <param name="State">Only runs in this state (wire name, e.g. "failed").</param>
public sealed record RunQuery(string? Stack = null, string? Environment = null, int Limit = 50, string? Region = null, string? State = null);

/// <summary>Aggregates over the run store that the server's /metrics reads at scrape time.</summary>
/// <param name="ByState">Number of runs per state (wire name).</param>
/// <param name="OldestUpdateByState">Per state, the oldest last-event instant of a run in it (how long the longest has been there).</param>
/// <param name="FailuresByClass">Runs with a failure class, per class.</param>
/// <param name="ApplyDurations">
/// Runs created since the window start that entered <c>applying</c> and then ended succeeded, failed or cancelled: the time
/// from entering <c>applying</c> to that end (applying, verifying, publishing). Runs whose outcome is unknown
/// (<c>needs_reconciliation</c>) have no end and are not counted.
/// </param>
/// <param name="QueueWaits">Runs created since the window start that left <c>queued</c> for <c>acquiring_locks</c>: the time from entering <c>queued</c> to that claim.</param>
/// <param name="LockWaits">Runs created since the window start that left <c>acquiring_locks</c> (locks taken, or given up): the time spent taking locks.</param>
public sealed record RunStatistics(
    IReadOnlyDictionary<string, long> ByState,
    IReadOnlyDictionary<string, DateTimeOffset> OldestUpdateByState,
    IReadOnlyDictionary<string, long> FailuresByClass,
    RunDurationStatistics ApplyDurations,
    RunDurationStatistics QueueWaits,
    RunDurationStatistics LockWaits);

/// <summary>Durations as cumulative bucket counts (Prometheus histogram style).</summary>
/// <param name="Buckets">Upper bounds in seconds, ascending, each with the number of durations at or under it.</param>
/// <param name="Count">Durations counted.</param>
/// <param name="SumSeconds">Their sum in seconds.</param>
public sealed record RunDurationStatistics(IReadOnlyList<(double UpperBoundSeconds, long Count)> Buckets, long Count, double SumSeconds);

/// <summary>Runs and their append-only event log.</summary>
public interface IRunStore
{
    /// <summary>Creates a run without a region and its first event (null → state).</summary>
    Task<RunRecord> CreateAsync(string runId, string stack, string environment, string initialState, string actor, CancellationToken cancellationToken) =>
        CreateAsync(runId, stack, environment, null, initialState, actor, cancellationToken);

    /// <summary>Creates a run for (stack, environment, region) and its first event (null → state).</summary>
    Task<RunRecord> CreateAsync(string runId, string stack, string environment, string? region, string initialState, string actor, CancellationToken cancellationToken);

    /// <summary>The run, or null.</summary>
    Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the run from <paramref name="expectedFrom"/> to <paramref name="newState"/> and appends the event, atomically.
    /// Throws <see cref="RunStateConflictException"/> when the run is not in <paramref name="expectedFrom"/>.
    /// </summary>
    Task<RunEvent> TransitionAsync(string runId, string expectedFrom, string newState, string actor, string detail, CancellationToken cancellationToken);

    /// <summary>The run's events in order.</summary>
    Task<IReadOnlyList<RunEvent>> ReadEventsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Appends an event that does not change the state (from = to = current state), e.g. "waiting in queue
    /// behind run X" or "attempt 1 throttled, retrying in 10s". Throws <see cref="RunStateConflictException"/>
    /// when the run is not in <paramref name="expectedState"/>.
    /// </summary>
    Task<RunEvent> AppendNoteAsync(string runId, string expectedState, string actor, string detail, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the run's details.</summary>
    Task SaveDetailsAsync(RunDetails details, CancellationToken cancellationToken);

    /// <summary>The run's details, or null when none were saved.</summary>
    Task<RunDetails?> GetDetailsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Records a request to cancel the run; false when one was already recorded (the first one stands).</summary>
    Task<bool> RequestCancelAsync(RunCancelRequest request, CancellationToken cancellationToken);

    /// <summary>The run's cancel request, or null.</summary>
    Task<RunCancelRequest?> GetCancelRequestAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Runs matching <paramref name="query"/>, newest first (by creation, then id).</summary>
    Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Runs in one of <paramref name="states"/> (wire names) last updated at or after <paramref name="since"/>, for one
    /// environment or all (null), newest first, at most <paramref name="limit"/>: one query joining details and plans.
    /// </summary>
    Task<IReadOnlyList<FinishedRun>> ListFinishedAsync(IReadOnlyList<string> states, string? environment, DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>Runs whose details name <paramref name="planId"/> as the plan they apply, newest first.</summary>
    Task<IReadOnlyList<RunRecord>> ListForPlanAsync(string planId, CancellationToken cancellationToken);

    /// <summary>
    /// Counts by state and failure class (all time), and the apply durations, queue waits and lock waits (from the run
    /// events) of runs created at or after <paramref name="since"/>, bucketed by <paramref name="bucketSeconds"/>
    /// (ascending): a few aggregate queries, the same on both backends.
    /// </summary>
    Task<RunStatistics> StatisticsAsync(DateTimeOffset since, IReadOnlyList<double> bucketSeconds, CancellationToken cancellationToken);
}
