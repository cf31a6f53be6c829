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
        // One query for the runs with their failure class and plan commit: the dashboard's overview reads this on
        // every page view, over thousands of runs.
        var finished = await services.Store.Runs.ListFinishedAsync(FinishedStates, environment, since, MaxRuns, cancellationToken);
        var changes = new List<DeliveryChange>();
        foreach (var (run, failureClassName, _, commit) in finished)
        {
            var state = RunStates.ParseWireName(run.State);
            var failureClass = failureClassName is { } name && FailureClassNames.TryParse(name, out var parsed) ? parsed : (FailureClass?)null;
            if (DeliveryMetrics.Classify(state, failureClass) is not { } outcome)
            {
                continue;
            }

            var committedAt = commit is null ? null : await services.Git.CommitTimeAsync(commit, cancellationToken);
            changes.Add(new DeliveryChange(run.Id, run.Stack, run.Environment, run.Region, outcome, run.UpdatedAt, committedAt));
        }

        return changes;
    }

    private static readonly string[] FinishedStates = [RunState.Succeeded.WireName(), RunState.Failed.WireName(), RunState.NeedsReconciliation.WireName()];
}
