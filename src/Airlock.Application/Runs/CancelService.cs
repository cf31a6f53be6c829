using Airlock.Domain.Config;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Application.Runs;

/// <summary>
/// <c>airlock cancel RUN_ID</c>: asks a run to stop, from another terminal or by another person,
/// if the environment's <c>apply.cancellation</c> allows them. The process running the apply sees
/// the request within a second and cancels as if Ctrl+C had been pressed there (graceful: SIGINT,
/// grace period, then kill), and the run records who cancelled it.
/// </summary>
public sealed class CancelService(AirlockServices services)
{
    /// <summary>Records the request; <see cref="RefusedException"/> when the actor may not cancel or the run already ended.</summary>
    public async Task<RunCancelRequest> RequestAsync(string runId, string actor, string reason, CancellationToken cancellationToken)
    {
        var run = await services.Store.Runs.GetAsync(runId, cancellationToken) ?? throw new UserInputException($"unknown run '{runId}' (airlock runs lists them)");
        var state = RunStates.ParseWireName(run.State);
        if (state.IsFinal())
        {
            throw new RefusedException($"run {runId} already ended ({run.State})");
        }

        var details = await services.Store.Runs.GetDetailsAsync(runId, cancellationToken);
        var environment = services.Workspace.Environment(run.Environment);
        var stack = services.Workspace.Stack(run.Stack);
        if (WhyNot(environment.Apply.Cancellation, stack, actor, details?.RequestedBy) is { } refusal)
        {
            throw new RefusedException(refusal);
        }

        var request = new RunCancelRequest(runId, actor, string.IsNullOrWhiteSpace(reason) ? "no reason given" : reason.Trim(), services.Time.GetUtcNow());
        if (!await services.Store.Runs.RequestCancelAsync(request, cancellationToken))
        {
            return await services.Store.Runs.GetCancelRequestAsync(runId, cancellationToken) ?? request;
        }

        return request;
    }

    /// <summary>Why <paramref name="actor"/> may not cancel under <paramref name="policy"/>; null when allowed. Whoever asked for the run may always stop it.</summary>
    public string? WhyNot(CancellationPolicy policy, StackConfig stack, string actor, string? requester)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(stack);
        if (string.Equals(actor, requester, StringComparison.OrdinalIgnoreCase) || policy.Kind == CancellationPolicy.Anyone)
        {
            return null;
        }

        var teams = policy.Kind == CancellationPolicy.Restricted ? [.. stack.Owners] : new[] { policy.Team! };
        return teams.Any(team => services.Workspace.Config.TeamMembers(team).Contains(actor, StringComparer.OrdinalIgnoreCase))
            ? null
            : $"{actor} may not cancel runs here: cancellation is limited to {(policy.Kind == CancellationPolicy.Restricted ? "the stack owners" : "team")} {string.Join(", ", teams)} and the requester";
    }
}
