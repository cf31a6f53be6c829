using Airlock.Domain.Storage;

using EvidenceRunEvent = Airlock.Domain.Evidence.RunEvent;

namespace Airlock.Application.Freezes;

/// <summary>Incident freezes started and stopped by command; each start and stop is recorded in evidence.</summary>
public sealed class FreezeService(AirlockServices services)
{
    /// <summary>Freezes <paramref name="environment"/>; a <see cref="RefusedException"/> when it is already frozen.</summary>
    public async Task<IncidentFreezeRecord> StartAsync(string environment, string reason, string actor, CancellationToken cancellationToken)
    {
        var env = services.Workspace.Environment(environment);
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new UserInputException("a freeze needs a --reason");
        }

        IncidentFreezeRecord freeze;
        try
        {
            freeze = await services.Store.Freezes.StartAsync(env.Name, reason.Trim(), actor, services.Time.GetUtcNow(), cancellationToken);
        }
        catch (FreezeAlreadyActiveException e)
        {
            throw new RefusedException(e.Message);
        }

        await RecordAsync("freeze_started", freeze, actor, cancellationToken);
        return freeze;
    }

    /// <summary>Lifts the freeze of <paramref name="environment"/>; a <see cref="UserInputException"/> when none is active.</summary>
    public async Task<IncidentFreezeRecord> StopAsync(string environment, string actor, CancellationToken cancellationToken)
    {
        var env = services.Workspace.Environment(environment);
        var freeze = await services.Store.Freezes.StopAsync(env.Name, actor, services.Time.GetUtcNow(), cancellationToken)
            ?? throw new UserInputException($"{env.Name} has no active incident freeze");
        await RecordAsync("freeze_stopped", freeze, actor, cancellationToken);
        return freeze;
    }

    private async Task RecordAsync(string type, IncidentFreezeRecord freeze, string actor, CancellationToken cancellationToken)
    {
        await services.Evidence.RecordEventAsync(
            new EvidenceRunEvent($"freeze-{freeze.Id}", type, "*", freeze.Environment, actor, services.Time.GetUtcNow(), new Dictionary<string, string> { ["reason"] = freeze.Reason }), cancellationToken);
    }
}
