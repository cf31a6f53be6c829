namespace Airlock.Domain.Locks;

/// <summary>
/// Who may force-unlock. Force-unlocking takes a lock from a run that may still be mutating,
/// so it needs a named, authorised actor and a reason; both go into the run's event log.
/// </summary>
public sealed class LockAdministrators(IEnumerable<string> actors)
{
    private readonly HashSet<string> _actors = new(actors.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()), StringComparer.Ordinal);

    /// <summary>The authorised actors.</summary>
    public IReadOnlyCollection<string> Actors => _actors;

    /// <summary>Throws <see cref="UnauthorizedAccessException"/> unless <paramref name="actor"/> may force-unlock with <paramref name="reason"/>.</summary>
    public void Authorize(string actor, string reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("force-unlock needs a reason");
        }

        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new ArgumentException("force-unlock needs an actor");
        }

        if (!_actors.Contains(actor))
        {
            throw new UnauthorizedAccessException(_actors.Count == 0
                ? $"'{actor}' may not force-unlock: no lock administrators are configured"
                : $"'{actor}' may not force-unlock: not one of the lock administrators ({string.Join(", ", _actors.Order(StringComparer.Ordinal))})");
        }
    }
}
