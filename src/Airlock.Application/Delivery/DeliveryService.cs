using Airlock.Domain.Delivery;
using Airlock.Domain.Failures;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Application.Delivery;

/// <summary>
/// Delivery metrics of a workspace: reads finished runs (and the commit time of the plan each applied) from the
/// store and git, and hands them to the pure <see cref="DeliveryMetrics"/>.
/// </summary>
public sealed class DeliveryService(AirlockServices services)
{
    /// <summary>The most runs one report reads (newest first); older runs fall outside any dashboard window in practice.</summary>
    public const int MaxRuns = 5000;

    /// <summary>The report for the <paramref name="days"/> days up to now, for one environment or all (null).</summary>
    public async Task<DeliveryReport> ReportAsync(string? environment, int days, CancellationToken cancellationToken)
    {
        if (days is < 1 or > 365)
        {
            throw new UserInputException("days must be between 1 and 365");
        }

        var to = services.Time.GetUtcNow();
        var from = to.AddDays(-days);
        return DeliveryMetrics.Compute(await ChangesAsync(environment, from, cancellationToken), from, to);
    }

    /// <summary>Deployments (see <see cref="DeliveryMetrics.Classify"/>) that finished at or after <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<DeliveryChange>> ChangesAsync(string? environment, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var runs = await services.Store.Runs.ListAsync(new RunQuery(Environment: environment, Limit: MaxRuns), cancellationToken);
        var commitTimes = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        var changes = new List<DeliveryChange>();
        foreach (var run in runs.Where(r => r.UpdatedAt >= since))
        {
            var state = RunStates.ParseWireName(run.State);
            if (state is not (RunState.Succeeded or RunState.Failed or RunState.NeedsReconciliation))
            {
                continue;
            }

            var details = await services.Store.Runs.GetDetailsAsync(run.Id, cancellationToken);
            var failureClass = details?.FailureClass is { } name && FailureClassNames.TryParse(name, out var parsed) ? parsed : (FailureClass?)null;
            if (DeliveryMetrics.Classify(state, failureClass) is not { } outcome)
            {
                continue;
            }

            changes.Add(new DeliveryChange(run.Id, run.Stack, run.Environment, run.Region, outcome, run.UpdatedAt, await CommitTimeAsync(details?.PlanId, commitTimes, cancellationToken)));
        }

        return changes;
    }

    private async Task<DateTimeOffset?> CommitTimeAsync(string? planId, Dictionary<string, DateTimeOffset?> cache, CancellationToken cancellationToken)
    {
        if (planId is null || await services.Store.Plans.GetAsync(planId, cancellationToken) is not { } plan)
        {
            return null;
        }

        if (!cache.TryGetValue(plan.Commit, out var at))
        {
            at = await services.Git.CommitTimeAsync(plan.Commit, cancellationToken);
            cache[plan.Commit] = at;
        }

        return at;
    }
}
