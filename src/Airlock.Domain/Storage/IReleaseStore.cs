namespace Airlock.Domain.Storage;

/// <summary>A release as stored: what it promotes, how far it got, and which process holds it.</summary>
/// <param name="Id">Release id.</param>
/// <param name="Name">Human name, e.g. "checkout".</param>
/// <param name="Version">The version being released, e.g. "v1.4.2".</param>
/// <param name="Commit">The commit the release takes through the environments, when known.</param>
/// <param name="State">Current state name, owned by the release orchestrator.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">Last saved progress.</param>
/// <param name="DetailJson">The orchestrator's progress (environments, waves, stacks, app steps) as a JSON object.</param>
/// <param name="Owner">The process driving it ("actor@host pid N"), or null when nobody does.</param>
/// <param name="LeaseExpires">When <paramref name="Owner"/>'s hold lapses unless renewed; null when nobody holds it.</param>
public sealed record ReleaseRecord(string Id, string Name, string Version, string? Commit, string State,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string DetailJson, string? Owner, DateTimeOffset? LeaseExpires);

/// <summary>Thrown when a release with the same id already exists.</summary>
public sealed class ReleaseAlreadyExistsException(string releaseId)
    : InvalidOperationException($"release {releaseId} already exists")
{
    /// <summary>The release id.</summary>
    public string ReleaseId { get; } = releaseId;
}

/// <summary>
/// Releases and who drives them. A release is driven by one process at a time: ownership is a lease taken by
/// compare-and-set, so a crashed driver's release can be resumed by another process once the lease lapses,
/// and a driver that lost its release can no longer save progress over the new driver's.
/// </summary>
public interface IReleaseStore
{
    /// <summary>Creates the release; throws <see cref="ReleaseAlreadyExistsException"/> for a duplicate id (nothing written).</summary>
    Task CreateAsync(ReleaseRecord release, CancellationToken ct);

    /// <summary>The release, or null.</summary>
    Task<ReleaseRecord?> GetAsync(string id, CancellationToken ct);

    /// <summary>At most <paramref name="limit"/> releases, newest first (by creation, then id).</summary>
    Task<IReadOnlyList<ReleaseRecord>> ListAsync(int limit, CancellationToken ct);

    /// <summary>
    /// Saves progress (state, detail, updated_at) only while <paramref name="owner"/> still holds the release
    /// (the owner column equals it); false, with nothing written, otherwise.
    /// </summary>
    Task<bool> SaveAsync(string id, string owner, string state, string detailJson, DateTimeOffset at, CancellationToken ct);

    /// <summary>
    /// Takes ownership when nobody holds the release or the holder's lease expired at <paramref name="now"/>
    /// (one compare-and-set statement, safe across processes); returns the record as taken, or null with nothing
    /// changed (unknown release, or held by anyone, the same owner included, under an unexpired lease: use
    /// <see cref="RenewAsync"/> to extend one's own).
    /// </summary>
    Task<ReleaseRecord?> TryTakeAsync(string id, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct);

    /// <summary>
    /// Takes ownership from <paramref name="previousOwner"/> whatever its lease says, only while it is still the
    /// owner (compare-and-set): for a caller that has established the previous driver is dead (same host, its
    /// process gone). Returns the record as taken, or null with nothing changed.
    /// </summary>
    Task<ReleaseRecord?> TakeOverAsync(string id, string previousOwner, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct);

    /// <summary>Extends <paramref name="owner"/>'s lease to <paramref name="now"/> + <paramref name="lease"/>; false when someone else holds it (or nobody).</summary>
    Task<bool> RenewAsync(string id, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct);

    /// <summary>Clears owner and lease if <paramref name="owner"/> still holds the release; otherwise does nothing.</summary>
    Task ReleaseOwnershipAsync(string id, string owner, CancellationToken ct);
}
