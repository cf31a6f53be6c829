namespace Airlock.Application.Apply;

/// <summary>
/// Starts the apply of an approved plan without waiting for it: the request is recorded durably and a worker runs it.
/// Hosts that react to events (the GitHub flow, the API) call this; <see cref="ApplyDispatch"/> implements it.
/// </summary>
public interface IApplyLauncher
{
    /// <summary>Records the apply of <paramref name="planId"/> for <paramref name="actor"/> (the authenticated identity) and returns its run id.</summary>
    Task<string> LaunchAsync(string planId, string actor, CancellationToken cancellationToken);
}
