using Airlock.Domain.Runs;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Domain.Tests.Runs;

public class RunLifecycleTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void The_saved_plan_happy_path_is_legal_and_every_step_is_an_event_with_the_clock_time()
    {
        var run = new RunLifecycle("run-1", 1, time);
        RunState[] path =
        [
            RunState.Validating, RunState.Queued, RunState.AcquiringLocks, RunState.Preparing, RunState.VerifyingSavedPlan,
            RunState.PolicyCheck, RunState.Applying, RunState.Verifying, RunState.Publishing, RunState.Succeeded,
        ];

        foreach (var state in path)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            run.MoveTo(state, "alice@example.com", $"to {state}");
        }

        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal(path.Length, run.History.Count);
        Assert.Equal(RunState.Requested, run.History[0].From);
        Assert.Equal(time.GetUtcNow(), run.History[^1].At);
        Assert.All(run.History.Zip(run.History.Skip(1)), pair => Assert.Equal(pair.First.To, pair.Second.From));
    }

    [Fact]
    public void Skipping_validation_is_illegal_so_nothing_reaches_applying_unchecked()
    {
        var run = new RunLifecycle("run-1", 1, time);

        var error = Assert.Throws<IllegalRunTransitionException>(() => run.MoveTo(RunState.Applying, "x"));

        Assert.Equal("a run cannot go from requested to applying", error.Message);
        Assert.Equal(RunState.Requested, run.State);
        Assert.Empty(run.History);
    }

    [Theory]
    [InlineData(RunState.Succeeded)]
    [InlineData(RunState.Rejected)]
    [InlineData(RunState.Failed)]
    [InlineData(RunState.Cancelled)]
    public void Final_states_are_never_left(RunState final)
    {
        var run = new RunLifecycle("run-1", 1, final, time);

        Assert.True(final.IsFinal());
        Assert.All(Enum.GetValues<RunState>(), to => Assert.False(run.CanMoveTo(to)));
    }

    [Fact]
    public void Rejection_is_only_possible_before_the_engine_runs()
    {
        var canReject = Enum.GetValues<RunState>().Where(s => new RunLifecycle("r", 1, s, time).CanMoveTo(RunState.Rejected));

        Assert.All(canReject, s => Assert.False(s.MayHaveMutated()));
        Assert.Contains(RunState.PolicyCheck, canReject);
    }

    [Fact]
    public void Every_state_that_is_not_final_can_end_failed_so_a_fault_at_any_step_has_a_legal_end()
    {
        var open = Enum.GetValues<RunState>().Where(s => !s.IsFinal()).ToList();

        Assert.All(open, s => Assert.True(new RunLifecycle("r", 1, s, time).CanMoveTo(RunState.Failed), $"{s.WireName()} cannot end failed"));
        Assert.Contains(RunState.PolicyCheck, open);
    }

    [Fact]
    public void An_unknown_outcome_needs_a_person_and_ends_in_a_final_state()
    {
        var run = new RunLifecycle("run-1", 2, RunState.Applying, time);

        run.MoveTo(RunState.NeedsReconciliation, "worker-1", "lease lost");
        run.MoveTo(RunState.Failed, "alice@example.com", "reconciled: 2 resources created");

        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(2, run.History[0].Attempt);
    }

    [Fact]
    public void Wire_names_round_trip_and_unknown_names_are_refused()
    {
        Assert.All(Enum.GetValues<RunState>(), s => Assert.Equal(s, RunStates.ParseWireName(s.WireName())));
        Assert.Equal("needs_reconciliation", RunState.NeedsReconciliation.WireName());
        Assert.Throws<ArgumentException>(() => RunStates.ParseWireName("exploded"));
    }
}
