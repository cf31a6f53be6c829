namespace Airlock.Domain.Storage;

/// <summary>An incident freeze started by command (calendar freezes live in airlock.yaml).</summary>
/// <param name="Id">Store-assigned.</param>
/// <param name="Environment">The frozen environment.</param>
/// <param name="Reason">Why, e.g. "SEV1 payments outage".</param>
/// <param name="StartedBy">Who started it.</param>
/// <param name="StartedAt">When.</param>
/// <param name="StoppedBy">Who stopped it, once stopped.</param>
/// <param name="StoppedAt">When it was stopped; null while active.</param>
public sealed record IncidentFreezeRecord(long Id, string Environment, string Reason, string StartedBy, DateTimeOffset StartedAt, string? StoppedBy, DateTimeOffset? StoppedAt)
{
    /// <summary>True until someone stops it.</summary>
    public bool IsActive => StoppedAt is null;
}

/// <summary>Thrown when an environment already has an active incident freeze.</summary>
public sealed class FreezeAlreadyActiveException(IncidentFreezeRecord active)
    : InvalidOperationException($"{active.Environment} is already frozen since {active.StartedAt:u} by {active.StartedBy}: {active.Reason}")
{
    /// <summary>The freeze in effect.</summary>
    public IncidentFreezeRecord Active { get; } = active;
}

/// <summary>Incident freezes: at most one active per environment; history is kept.</summary>
public interface IFreezeStore
{
    /// <summary>Starts a freeze; throws <see cref="FreezeAlreadyActiveException"/> when one is active (atomically, across processes).</summary>
    Task<IncidentFreezeRecord> StartAsync(string environment, string reason, string actor, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Stops the active freeze of <paramref name="environment"/>; null when none was active.</summary>
    Task<IncidentFreezeRecord?> StopAsync(string environment, string actor, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The active freeze of <paramref name="environment"/>, or null.</summary>
    Task<IncidentFreezeRecord?> ActiveAsync(string environment, CancellationToken cancellationToken);

    /// <summary>Active freezes first, then the most recent stopped ones, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<IncidentFreezeRecord>> ListAsync(int limit, CancellationToken cancellationToken);
}
