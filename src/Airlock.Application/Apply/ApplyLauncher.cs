namespace Airlock.Application.Apply;

/// <summary>
/// Starts the apply of an approved plan on behalf of <c>actor</c> (the authenticated identity, never a request
/// field) and returns the run's id. Hosts choose how: in this process, or through the workers' queue.
/// </summary>
public interface IApplyLauncher
{
    /// <summary>Launches the apply of <paramref name="planId"/> as <paramref name="actor"/>; returns the run id.</summary>
    Task<string> LaunchAsync(string planId, string actor, CancellationToken cancellationToken);
}

/// <summary>
/// Runs the apply here and now through <see cref="ApplyService"/> and returns once it has ended (refusals and
/// failures are the run's outcome, read from the run store). The server's workers replace it with a queue-backed one.
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
