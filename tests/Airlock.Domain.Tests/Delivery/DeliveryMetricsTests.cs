using Airlock.Domain.Delivery;
using Airlock.Domain.Failures;
using Airlock.Domain.Runs;

namespace Airlock.Domain.Tests.Delivery;

public class DeliveryMetricsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset End = Start.AddDays(10);

    private static DeliveryChange Change(string id, string stack, DeliveryOutcome outcome, double finishedHours, double? commitHours = null) =>
        new(id, stack, "prod", null, outcome, Start.AddHours(finishedHours), commitHours is { } c ? Start.AddHours(c) : null);

    [Theory]
    [InlineData(RunState.Succeeded, null, DeliveryOutcome.Succeeded)]
    [InlineData(RunState.NeedsReconciliation, null, DeliveryOutcome.Failed)]
    [InlineData(RunState.Failed, FailureClass.PartialMutation, DeliveryOutcome.Failed)]
    [InlineData(RunState.Failed, FailureClass.VerificationFailed, DeliveryOutcome.Failed)]
    [InlineData(RunState.Failed, FailureClass.StateWriteFailure, DeliveryOutcome.Failed)]
    [InlineData(RunState.Failed, FailureClass.RunnerFailure, DeliveryOutcome.Failed)]
    public void Runs_that_attempted_a_change_are_deployments(RunState state, FailureClass? failureClass, DeliveryOutcome expected) =>
        Assert.Equal(expected, DeliveryMetrics.Classify(state, failureClass));

    [Theory]
    [InlineData(RunState.Rejected, null)]
    [InlineData(RunState.Cancelled, null)]
    [InlineData(RunState.Failed, FailureClass.PreMutation)]
    [InlineData(RunState.Failed, FailureClass.PolicyDenied)]
    [InlineData(RunState.Failed, FailureClass.Auth)]
    [InlineData(RunState.Failed, FailureClass.LockUnavailable)]
    [InlineData(RunState.Applying, null)]
    public void Runs_refused_or_stopped_before_mutation_are_not_deployments(RunState state, FailureClass? failureClass) =>
        Assert.Null(DeliveryMetrics.Classify(state, failureClass));

    [Fact]
    public void Frequency_failure_rate_lead_time_and_restore_time_follow_their_definitions()
    {
        DeliveryChange[] changes =
        [
            Change("r1", "network", DeliveryOutcome.Succeeded, 10, commitHours: 8),   // lead 2h
            Change("r2", "network", DeliveryOutcome.Failed, 30),                      // network broken at 30h
            Change("r3", "network", DeliveryOutcome.Failed, 31),                      // still broken: same streak
            Change("r4", "network", DeliveryOutcome.Succeeded, 36, commitHours: 30),  // restored after 6h; lead 6h
            Change("r5", "database", DeliveryOutcome.Succeeded, 50, commitHours: 46), // lead 4h
            Change("r6", "database", DeliveryOutcome.Failed, 60),                     // never restored
        ];

        var report = DeliveryMetrics.Compute(changes, Start, End);

        Assert.Equal(6, report.Deployments);
        Assert.Equal(3, report.Succeeded);
        Assert.Equal(3, report.Failed);
        Assert.Equal(0.6, report.DeploymentsPerDay, 6);
        Assert.Equal(0.5, report.ChangeFailureRate);
        Assert.Equal(TimeSpan.FromHours(4), report.LeadTimeMedian);
        Assert.Equal(TimeSpan.FromHours(6), report.TimeToRestoreMedian);
        Assert.Equal(1, report.Restored);
        Assert.Equal(1, report.Unrestored);
        Assert.Equal(10, report.Days.Count);
        Assert.Equal(new DeliveryDay(new DateOnly(2026, 11, 1), 1, 0, TimeSpan.FromHours(2)), report.Days[0]);
        Assert.Equal(new DeliveryDay(new DateOnly(2026, 11, 2), 1, 2, TimeSpan.FromHours(6)), report.Days[1]);
        Assert.Equal(new DeliveryDay(new DateOnly(2026, 11, 3), 1, 1, TimeSpan.FromHours(4)), report.Days[2]);
        Assert.All(report.Days.Skip(3), d => Assert.Equal(0, d.Succeeded + d.Failed));
    }

    [Fact]
    public void Changes_outside_the_window_are_not_counted_but_a_later_success_restores_a_failure_in_it()
    {
        DeliveryChange[] changes =
        [
            Change("before", "network", DeliveryOutcome.Succeeded, -5, commitHours: -6),
            Change("in", "network", DeliveryOutcome.Failed, 230),
            Change("after", "network", DeliveryOutcome.Succeeded, 250),
        ];

        var report = DeliveryMetrics.Compute(changes, Start, End);

        Assert.Equal(1, report.Deployments);
        Assert.Equal(1.0, report.ChangeFailureRate);
        Assert.Null(report.LeadTimeMedian);
        Assert.Equal(TimeSpan.FromHours(20), report.TimeToRestoreMedian);
        Assert.Equal(0, report.Unrestored);
    }

    [Fact]
    public void Restores_are_per_target_a_success_elsewhere_does_not_restore_a_failure()
    {
        DeliveryChange[] changes =
        [
            Change("f", "network", DeliveryOutcome.Failed, 1),
            Change("other", "database", DeliveryOutcome.Succeeded, 2),
            new("other-region", "network", "prod", "eu-west-1", DeliveryOutcome.Succeeded, Start.AddHours(3), null),
        ];

        var report = DeliveryMetrics.Compute(changes, Start, End);

        Assert.Null(report.TimeToRestoreMedian);
        Assert.Equal(1, report.Unrestored);
    }

    [Fact]
    public void An_empty_window_has_no_rates_and_a_commit_after_the_apply_is_no_negative_lead_time()
    {
        var empty = DeliveryMetrics.Compute([], Start, End);
        Assert.Equal(0, empty.Deployments);
        Assert.Equal(0, empty.DeploymentsPerDay);
        Assert.Null(empty.ChangeFailureRate);
        Assert.Null(empty.LeadTimeMedian);

        var skewed = DeliveryMetrics.Compute([Change("s", "network", DeliveryOutcome.Succeeded, 5, commitHours: 6)], Start, End);
        Assert.Equal(TimeSpan.Zero, skewed.LeadTimeMedian);
        Assert.Throws<ArgumentException>(() => DeliveryMetrics.Compute([], End, Start));
    }

    [Fact]
    public void The_median_of_an_even_count_is_the_mean_of_the_middle_two()
    {
        Assert.Equal(TimeSpan.FromMinutes(15), DeliveryMetrics.Median([TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(1)]));
        Assert.Null(DeliveryMetrics.Median([]));
    }
}
