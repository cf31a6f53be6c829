using Airlock.Domain.Failures;
using Airlock.Domain.Runs;

namespace Airlock.Domain.Delivery;

/// <summary>How a finished run counts for delivery metrics.</summary>
public enum DeliveryOutcome
{
    /// <summary>The change reached its target and passed verification.</summary>
    Succeeded,

    /// <summary>The change was attempted and left the target degraded or unknown (a change failure).</summary>
    Failed,
}

/// <summary>One deployment: a run that attempted to change a target, with when it finished and when its commit was made.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Stack">Target stack.</param>
/// <param name="Environment">Target environment.</param>
/// <param name="Region">Target region, or null.</param>
/// <param name="Outcome">Succeeded or a change failure.</param>
/// <param name="FinishedAt">When the run reached its final state.</param>
/// <param name="CommittedAt">When the applied commit was made, when known (lead time needs it).</param>
public sealed record DeliveryChange(string RunId, string Stack, string Environment, string? Region, DeliveryOutcome Outcome, DateTimeOffset FinishedAt, DateTimeOffset? CommittedAt);

/// <summary>Deployments and failures of one UTC day.</summary>
/// <param name="Day">The day.</param>
/// <param name="Succeeded">Successful deployments that day.</param>
/// <param name="Failed">Change failures that day.</param>
/// <param name="LeadTimeMedian">Median lead time of that day's successful deployments, when any has a commit time.</param>
public sealed record DeliveryDay(DateOnly Day, int Succeeded, int Failed, TimeSpan? LeadTimeMedian);

/// <summary>The four delivery metrics (DORA) over a window, and the same per day for charts.</summary>
/// <param name="From">Window start (inclusive).</param>
/// <param name="To">Window end (exclusive).</param>
/// <param name="Deployments">Deployments finished in the window (successful + failed).</param>
/// <param name="Succeeded">Successful deployments.</param>
/// <param name="Failed">Change failures.</param>
/// <param name="DeploymentsPerDay">Deployment frequency: deployments per day of the window.</param>
/// <param name="LeadTimeMedian">Median time from commit to successfully applied; null when no successful deployment has a commit time.</param>
/// <param name="ChangeFailureRate">Failed / deployments (0..1); null without deployments.</param>
/// <param name="TimeToRestoreMedian">Median time from a target's first failure to its next successful deployment; null when none was restored.</param>
/// <param name="Restored">Failure streaks that a later success restored.</param>
/// <param name="Unrestored">Failure streaks with no later success yet (not in the median).</param>
/// <param name="Days">One entry per UTC day of the window, oldest first.</param>
public sealed record DeliveryReport(
    DateTimeOffset From,
    DateTimeOffset To,
    int Deployments,
    int Succeeded,
    int Failed,
    double DeploymentsPerDay,
    TimeSpan? LeadTimeMedian,
    double? ChangeFailureRate,
    TimeSpan? TimeToRestoreMedian,
    int Restored,
    int Unrestored,
    IReadOnlyList<DeliveryDay> Days);

/// <summary>
/// Delivery metrics computed from finished runs (pure). A deployment is a run that attempted a change: it succeeded,
/// or it failed after the engine may have mutated (partial mutation, state write failure, failed verification,
/// runner failure) or ended needing reconciliation. Runs refused or cancelled before mutation are not deployments.
/// </summary>
public static class DeliveryMetrics
{
    /// <summary>The failure classes that mean a change was attempted and left the target degraded or unknown.</summary>
    public static IReadOnlySet<FailureClass> ChangeFailureClasses { get; } = new HashSet<FailureClass>
    {
        FailureClass.PartialMutation, FailureClass.StateWriteFailure, FailureClass.VerificationFailed, FailureClass.RunnerFailure,
    };

    /// <summary>How a run in final state <paramref name="state"/> with <paramref name="failureClass"/> counts; null when it is no deployment.</summary>
    public static DeliveryOutcome? Classify(RunState state, FailureClass? failureClass) => state switch
    {
        RunState.Succeeded => DeliveryOutcome.Succeeded,
        RunState.NeedsReconciliation => DeliveryOutcome.Failed,
        RunState.Failed when failureClass is { } c && ChangeFailureClasses.Contains(c) => DeliveryOutcome.Failed,
        _ => null,
    };

    /// <summary>
    /// The metrics of the changes that finished in [<paramref name="from"/>, <paramref name="to"/>). Time to restore
    /// looks at every change given (a failure in the window restored after it still counts once restored).
    /// </summary>
    public static DeliveryReport Compute(IEnumerable<DeliveryChange> changes, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (to <= from)
        {
            throw new ArgumentException("the window must end after it starts", nameof(to));
        }

        var all = changes.OrderBy(c => c.FinishedAt).ThenBy(c => c.RunId, StringComparer.Ordinal).ToList();
        var inWindow = all.Where(c => c.FinishedAt >= from && c.FinishedAt < to).ToList();
        var succeeded = inWindow.Count(c => c.Outcome == DeliveryOutcome.Succeeded);
        var failed = inWindow.Count - succeeded;
        var days = (to - from).TotalDays;

        var (restores, unrestored) = RestoreTimes(all, from, to);
        return new DeliveryReport(
            from,
            to,
            inWindow.Count,
            succeeded,
            failed,
            inWindow.Count / days,
            Median(LeadTimes(inWindow)),
            inWindow.Count == 0 ? null : (double)failed / inWindow.Count,
            Median(restores),
            restores.Count,
            unrestored,
            Daily(inWindow, from, to));
    }

    /// <summary>The median of <paramref name="values"/> (mean of the middle two for an even count); null when empty.</summary>
    public static TimeSpan? Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : TimeSpan.FromTicks((sorted[middle - 1].Ticks + sorted[middle].Ticks) / 2);
    }

    private static IEnumerable<TimeSpan> LeadTimes(IEnumerable<DeliveryChange> changes) =>
        changes.Where(c => c.Outcome == DeliveryOutcome.Succeeded && c.CommittedAt is not null)
            .Select(c => c.FinishedAt - c.CommittedAt!.Value)
            .Select(t => t < TimeSpan.Zero ? TimeSpan.Zero : t); // clock skew between committer and server is not negative lead time

    // Per target: a failure streak starts at its first failure in the window and ends at the next success.
    private static (List<TimeSpan> Restores, int Unrestored) RestoreTimes(List<DeliveryChange> ordered, DateTimeOffset from, DateTimeOffset to)
    {
        var restores = new List<TimeSpan>();
        var unrestored = 0;
        foreach (var target in ordered.GroupBy(c => (c.Stack, c.Environment, c.Region)))
        {
            DateTimeOffset? brokenSince = null;
            foreach (var change in target)
            {
                if (change.Outcome == DeliveryOutcome.Failed)
                {
                    if (brokenSince is null && change.FinishedAt >= from && change.FinishedAt < to)
                    {
                        brokenSince = change.FinishedAt;
                    }
                }
                else if (brokenSince is { } since)
                {
                    restores.Add(change.FinishedAt - since);
                    brokenSince = null;
                }
            }

            if (brokenSince is not null)
            {
                unrestored++;
            }
        }

        return (restores, unrestored);
    }

    private static List<DeliveryDay> Daily(List<DeliveryChange> inWindow, DateTimeOffset from, DateTimeOffset to)
    {
        var byDay = inWindow.ToLookup(c => DateOnly.FromDateTime(c.FinishedAt.UtcDateTime));
        var days = new List<DeliveryDay>();
        for (var day = DateOnly.FromDateTime(from.UtcDateTime); day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) < to.UtcDateTime; day = day.AddDays(1))
        {
            var changes = byDay[day].ToList();
            days.Add(new DeliveryDay(day, changes.Count(c => c.Outcome == DeliveryOutcome.Succeeded), changes.Count(c => c.Outcome == DeliveryOutcome.Failed), Median(LeadTimes(changes))));
        }

        return days;
    }
}
