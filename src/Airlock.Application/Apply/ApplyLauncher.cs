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

/// <summary>
/// Runs the apply here and now through <see cref="ApplyService"/> and returns once it has ended (refusals and
/// failures are the run's outcome, read from the run store). The GitHub flow uses it so a pull request's plans
/// apply one after another in dependency order, stopping at the first that does not succeed.
/// </summary>
public sealed class InProcessApplyLauncher(AirlockServices services) : IApplyLauncher
{
    /// <inheritdoc />
    public async Task<string> LaunchAsync(string planId, string actor, CancellationToken cancellationToken)
    {
        var outcome = await new ApplyService(services).ApplyAsync(new ApplyRequest(planId, actor), SilentApplyObserver.Instance, cancellationToken);
        return outcome.RunId;
    }
}
