using Airlock.Domain.Queues;

namespace Airlock.Domain.Storage;

/// <summary>Apply queues. Claims are safe across processes and never exceed a queue's concurrency.</summary>
public interface IQueueStore
{
    /// <summary>Adds a waiting item to <paramref name="queue"/>.</summary>
    Task<QueueItem> EnqueueAsync(QueueDefinition queue, EnqueueRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the next item of <paramref name="queue"/> for <paramref name="claimer"/> (priority class, then FIFO),
    /// or null when nothing is claimable or the queue (or every waiting key) is at its concurrency limit.
    /// </summary>
    Task<QueueItem?> ClaimAsync(QueueDefinition queue, string claimer, CancellationToken cancellationToken) =>
        ClaimAsync(queue, claimer, QueueItem.DefaultClaimLease, cancellationToken);

    /// <summary>
    /// As <see cref="ClaimAsync(QueueDefinition, string, CancellationToken)"/>, with a claim lease of <paramref name="lease"/>:
    /// unless renewed (<see cref="RenewClaimAsync"/>) the claim stops counting against the limit when it lapses.
    /// Claims whose lease lapsed are not counted.
    /// </summary>
    Task<QueueItem?> ClaimAsync(QueueDefinition queue, string claimer, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Claims exactly item <paramref name="itemId"/> when it is the item <see cref="ClaimAsync"/> would pick now
    /// (first in line, not held, with room under the limits); null otherwise. A CLI run waits for its own turn with
    /// this instead of taking whatever is next.
    /// </summary>
    Task<QueueItem?> ClaimItemAsync(QueueDefinition queue, long itemId, string claimer, CancellationToken cancellationToken) =>
        ClaimItemAsync(queue, itemId, claimer, QueueItem.DefaultClaimLease, cancellationToken);

    /// <summary>As <see cref="ClaimItemAsync(QueueDefinition, long, string, CancellationToken)"/>, with a claim lease of <paramref name="lease"/>.</summary>
    Task<QueueItem?> ClaimItemAsync(QueueDefinition queue, long itemId, string claimer, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Extends <paramref name="claimer"/>'s live claim of item <paramref name="itemId"/> to now + <paramref name="lease"/>.
    /// False when the item is not claimed by it or its lease already lapsed: a lapsed claim is never revived, since its
    /// slot may already be someone else's.
    /// </summary>
    Task<bool> RenewClaimAsync(long itemId, string claimer, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Marks a claimed item finished, freeing its concurrency slot. False when it was not claimed.</summary>
    Task<bool> CompleteAsync(long itemId, string outcome, CancellationToken cancellationToken);

    /// <summary>Cancels a waiting item. False when it is no longer waiting (claimed items are stopped through their run).</summary>
    Task<bool> CancelAsync(long itemId, string actor, string reason, CancellationToken cancellationToken);

    /// <summary>Sets or clears (null) the hold that keeps a waiting item from being claimed, e.g. "waiting for approval".</summary>
    Task<bool> SetHoldAsync(long itemId, string? holdReason, CancellationToken cancellationToken);

    /// <summary>The item, or null.</summary>
    Task<QueueItem?> GetAsync(long itemId, CancellationToken cancellationToken);

    /// <summary>Waiting and claimed items (abandoned claims included) of every queue, for visibility.</summary>
    Task<IReadOnlyList<QueueItem>> ListActiveAsync(CancellationToken cancellationToken);
}
