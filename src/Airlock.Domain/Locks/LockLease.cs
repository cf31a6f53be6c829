namespace Airlock.Domain.Locks;

/// <summary>Who holds a lock and until when.</summary>
/// <param name="RunId">The run holding the lock.</param>
/// <param name="Actor">The person or service acting for the run.</param>
/// <param name="Reason">Why it is held, shown to whoever is waiting.</param>
/// <param name="Since">When this holder took it.</param>
/// <param name="Expires">When the lease lapses unless renewed.</param>
public sealed record LockHolder(string RunId, string Actor, string Reason, DateTimeOffset Since, DateTimeOffset Expires);

/// <summary>A held lease: the key, its holder and the fencing token issued to this holder.</summary>
/// <param name="Key">The lock.</param>
/// <param name="Holder">The current holder.</param>
/// <param name="FencingToken">Strictly increasing per key across every holder ever; writes guarded by the lock carry it.</param>
public sealed record LockLease(LockKey Key, LockHolder Holder, long FencingToken)
{
    /// <summary>True when the lease has lapsed at <paramref name="now"/> (it stays visible until someone takes the key).</summary>
    public bool IsExpiredAt(DateTimeOffset now) => Holder.Expires <= now;
}

/// <summary>What a run asks for when taking a lock.</summary>
/// <param name="RunId">The run that will hold it.</param>
/// <param name="Actor">Who acts for the run.</param>
/// <param name="Reason">Shown to others while held.</param>
/// <param name="LeaseDuration">How long a lease lasts without renewal.</param>
public sealed record LockRequest(string RunId, string Actor, string Reason, TimeSpan LeaseDuration)
{
    /// <summary>Throws when a field is missing or the lease is not positive.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(RunId) || string.IsNullOrWhiteSpace(Actor) || string.IsNullOrWhiteSpace(Reason))
        {
            throw new ArgumentException("a lock request needs a run id, an actor and a reason");
        }

        if (LeaseDuration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"lease duration must be positive, got {LeaseDuration}");
        }
    }
}

/// <summary>The outcome of one attempt to take a lock.</summary>
/// <param name="Lease">The lease when taken, else null.</param>
/// <param name="CurrentHolder">Who holds it when not taken.</param>
/// <param name="TookOverExpiredFrom">The lapsed holder this acquisition replaced (its run is marked for reconciliation).</param>
public sealed record LockAttempt(LockLease? Lease, LockLease? CurrentHolder, LockLease? TookOverExpiredFrom)
{
    /// <summary>True when the lock was taken.</summary>
    public bool Acquired => Lease is not null;
}
