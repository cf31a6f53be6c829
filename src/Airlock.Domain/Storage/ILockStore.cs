using Airlock.Domain.Locks;

namespace Airlock.Domain.Storage;

/// <summary>
/// Lease locks with fencing tokens. Each call is one short transaction that is safe across processes
/// and machines. Waiting, heartbeats and ordered multi-key acquisition are built on top (LockManager).
/// </summary>
public interface ILockStore
{
    /// <summary>
    /// One attempt to take <paramref name="key"/>. Succeeds when the key is free or its lease has lapsed; a lapsed
    /// holder's run is marked NeedsReconciliation (with a run event) in the same transaction. The new lease gets a
    /// fencing token greater than any token ever issued for the key.
    /// </summary>
    Task<LockAttempt> TryAcquireAsync(LockKey key, LockRequest request, CancellationToken cancellationToken);

    /// <summary>Extends the lease held with <paramref name="fencingToken"/>; null when it is no longer held by that token.</summary>
    Task<LockLease?> RenewAsync(LockKey key, long fencingToken, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Releases the lease held with <paramref name="fencingToken"/>; false when it was no longer held by that token.</summary>
    Task<bool> ReleaseAsync(LockKey key, long fencingToken, CancellationToken cancellationToken);

    /// <summary>Every lock row (held or lapsed), by key.</summary>
    Task<IReadOnlyList<LockLease>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The highest fencing token ever issued for <paramref name="key"/> (0 when never taken).</summary>
    Task<long> LastFencingTokenAsync(LockKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the lease on <paramref name="key"/> whoever holds it; the holder's run is marked NeedsReconciliation
    /// and the unlock is recorded as a run event with <paramref name="actor"/> and <paramref name="reason"/>.
    /// Authorisation is the caller's job (<see cref="LockAdministrators"/>). Returns the removed lease, or null when unheld.
    /// </summary>
    Task<LockLease?> ForceUnlockAsync(LockKey key, string actor, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// When the lease on <paramref name="key"/> with <paramref name="fencingToken"/> lapsed and its holder's run is still
    /// running (not final, not already NeedsReconciliation), marks that run NeedsReconciliation with a run event, in one
    /// transaction under the key's fence. The lease itself stays: nothing is released automatically. True when it marked.
    /// </summary>
    Task<bool> ReconcileLapsedAsync(LockKey key, long fencingToken, CancellationToken cancellationToken);
}
