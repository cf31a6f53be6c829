namespace Airlock.Domain.Storage;

/// <summary>Where an apply request stands on the worker queue (wire names in <see cref="ApplyRequestStates"/>).</summary>
public static class ApplyRequestStates
{
    /// <summary>Recorded, waiting for a worker.</summary>
    public const string Pending = "pending";

    /// <summary>A worker claimed it and keeps the claim alive with heartbeats while the run lives.</summary>
    public const string Claimed = "claimed";

    /// <summary>The worker ran it to an end; the run's state says how it ended.</summary>
    public const string Done = "done";

    /// <summary>Its worker died (the claim lapsed): never run again, its run is reconciled instead.</summary>
    public const string Abandoned = "abandoned";
}

/// <summary>A durable request to apply an approved plan, processed by exactly one worker.</summary>
/// <param name="RunId">The run id, fixed when the request is made so the caller can follow the run.</param>
/// <param name="PlanId">The approved plan.</param>
/// <param name="Actor">Who asked (the authenticated actor, never a request field).</param>
/// <param name="BreakGlassIncident">Break-glass incident id, when the request is an emergency.</param>
/// <param name="BreakGlassReason">Break-glass reason.</param>
/// <param name="State">One of <see cref="ApplyRequestStates"/>.</param>
/// <param name="RequestedAt">When it was recorded.</param>
/// <param name="ClaimedBy">The worker that claimed it.</param>
/// <param name="ClaimedAt">When it was claimed.</param>
/// <param name="ClaimedUntil">Until when the claim lives unless renewed.</param>
/// <param name="FinishedAt">When it was done or abandoned.</param>
/// <param name="Outcome">The run's final state, or why it was abandoned.</param>
public sealed record ApplyRequestRecord(
    string RunId,
    string PlanId,
    string Actor,
    string? BreakGlassIncident,
    string? BreakGlassReason,
    string State,
    DateTimeOffset RequestedAt,
    string? ClaimedBy = null,
    DateTimeOffset? ClaimedAt = null,
    DateTimeOffset? ClaimedUntil = null,
    DateTimeOffset? FinishedAt = null,
    string? Outcome = null);

/// <summary>
/// Apply requests for the server's workers. A claim is one short transaction safe across processes (FOR UPDATE SKIP
/// LOCKED on PostgreSQL, a write transaction on SQLite): each request is claimed by exactly one worker, and a request
/// whose claim lapsed is never claimed again (it may have started mutating): it is abandoned and its run reconciled.
/// </summary>
public interface IApplyRequestStore
{
    /// <summary>Records a pending request.</summary>
    Task CreateAsync(ApplyRequestRecord request, CancellationToken cancellationToken);

    /// <summary>The request for run <paramref name="runId"/>, or null.</summary>
    Task<ApplyRequestRecord?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Claims the oldest pending request for <paramref name="worker"/> with a lease of <paramref name="lease"/>; null when none is pending.</summary>
    Task<ApplyRequestRecord?> ClaimNextAsync(string worker, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Extends <paramref name="worker"/>'s live claim; false when it is not its claim any more or already lapsed.</summary>
    Task<bool> RenewAsync(string runId, string worker, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Marks <paramref name="worker"/>'s claimed request done with <paramref name="outcome"/>; false when it was not claimed by it.</summary>
    Task<bool> CompleteAsync(string runId, string worker, string outcome, CancellationToken cancellationToken);

    /// <summary>Claimed requests whose lease lapsed before now (their worker died or hung).</summary>
    Task<IReadOnlyList<ApplyRequestRecord>> ListLapsedAsync(CancellationToken cancellationToken);

    /// <summary>Marks a claimed request whose lease lapsed abandoned with <paramref name="reason"/>; false when it is no longer a lapsed claim.</summary>
    Task<bool> AbandonAsync(string runId, string reason, CancellationToken cancellationToken);

    /// <summary>Requests in <paramref name="state"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ApplyRequestRecord>> ListAsync(string state, int limit, CancellationToken cancellationToken);
}
