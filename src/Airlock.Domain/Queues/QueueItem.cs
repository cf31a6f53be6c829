using Airlock.Domain.Locks;

namespace Airlock.Domain.Queues;

/// <summary>Lifecycle of a queue item.</summary>
public enum QueueItemState
{
    /// <summary>Waiting to be claimed.</summary>
    Waiting = 0,

    /// <summary>Claimed by a worker; counts against the concurrency limit while its claim lease lasts (see <see cref="QueueItem.IsAbandonedAt"/>).</summary>
    Claimed = 1,

    /// <summary>Finished (whatever the run's outcome).</summary>
    Completed = 2,

    /// <summary>Cancelled while waiting.</summary>
    Cancelled = 3,
}

/// <summary>One apply request waiting in, or taken from, a queue.</summary>
/// <param name="Id">Store-assigned id; also the FIFO order within a priority class.</param>
/// <param name="Queue">Queue name.</param>
/// <param name="RunId">The run the item will drive.</param>
/// <param name="Environment">Target environment.</param>
/// <param name="Stack">Target stack.</param>
/// <param name="PriorityClass">e.g. <c>emergency</c> or <c>standard</c>.</param>
/// <param name="PriorityRank">Rank of the class in its queue (0 = most urgent).</param>
/// <param name="ConcurrencyKey">Value of the queue's key (e.g. the service), when the queue is keyed.</param>
/// <param name="RequiredLocks">Locks the run will take, for the blocked reason.</param>
/// <param name="HoldReason">Set while the item may not be claimed, e.g. "waiting for approval".</param>
/// <param name="State">Lifecycle state.</param>
/// <param name="EnqueuedAt">When it was queued.</param>
/// <param name="ClaimedAt">When it was claimed.</param>
/// <param name="ClaimedBy">Which worker claimed it.</param>
/// <param name="FinishedAt">When completed or cancelled.</param>
/// <param name="Outcome">Completion outcome or cancellation reason.</param>
/// <param name="ClaimedUntil">End of the claim's lease; the claimer's heartbeat pushes it on while the run lives.</param>
public sealed record QueueItem(
    long Id,
    string Queue,
    string RunId,
    string Environment,
    string Stack,
    string PriorityClass,
    int PriorityRank,
    string? ConcurrencyKey,
    IReadOnlyList<LockKey> RequiredLocks,
    string? HoldReason,
    QueueItemState State,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? ClaimedAt,
    string? ClaimedBy,
    DateTimeOffset? FinishedAt,
    string? Outcome,
    DateTimeOffset? ClaimedUntil = null)
{
    /// <summary>Lease of a claim when the caller does not choose one; the same as an apply run's lock lease.</summary>
    public static readonly TimeSpan DefaultClaimLease = TimeSpan.FromMinutes(2);

    /// <summary>
    /// True for a claim whose lease lapsed (its claimer crashed or hung): it no longer counts against the queue's
    /// concurrency, but stays on the board as abandoned; its run is reconciled through its lock leases.
    /// </summary>
    public bool IsAbandonedAt(DateTimeOffset now) => State == QueueItemState.Claimed && ClaimedUntil is { } until && until <= now;
}

/// <summary>What a caller supplies to queue an apply request.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Environment">Target environment.</param>
/// <param name="Stack">Target stack.</param>
/// <param name="PriorityClass">One of the queue's classes.</param>
/// <param name="ConcurrencyKey">The key value when the queue is keyed (required then).</param>
/// <param name="RequiredLocks">Locks the run will need.</param>
/// <param name="HoldReason">Initial hold, e.g. "waiting for approval"; null when claimable.</param>
public sealed record EnqueueRequest(string RunId, string Environment, string Stack, string PriorityClass, string? ConcurrencyKey, IReadOnlyList<LockKey> RequiredLocks, string? HoldReason = null);
