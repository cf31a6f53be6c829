using Airlock.Domain.Failures;

namespace Airlock.Domain.Tests.Failures;

public sealed class RetryPolicyTests
{
    private static readonly RetryPolicy Policy = new(4, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10),
        new HashSet<FailureClass> { FailureClass.Throttled, FailureClass.LockUnavailable, FailureClass.RunnerFailure, FailureClass.PreMutation });

    private static FailureVerdict Verdict(string text, RunPhase phase = RunPhase.BeforeMutation, Termination termination = Termination.Exited, long? before = null, long? after = null) =>
        FailureClassifier.Classify(new FailureObservation("apply", phase, termination == Termination.Exited ? 1 : null, termination, text, before, after));

    [Theory]
    [InlineData(1, 0.0, 1.0)]
    [InlineData(1, 0.5, 1.5)]
    [InlineData(2, 0.5, 3.0)]
    [InlineData(3, 0.999, 7.996)]
    public void Throttling_backs_off_exponentially_with_jitter_from_the_injected_source(int attempt, double random, double expectedSeconds)
    {
        var decision = Policy.Decide(attempt, Verdict(ErrorFixtures.Example(5)), () => random);

        Assert.Equal(RetryAction.RetryAfterDelay, decision.Action);
        Assert.Equal(expectedSeconds, decision.Delay.TotalSeconds, 3);
    }

    [Fact]
    public void Backoff_is_bounded_by_the_maximum_delay()
    {
        var delay = Policy.Backoff(20, () => 0.999999);

        Assert.True(delay <= TimeSpan.FromSeconds(10));
        Assert.True(delay >= TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Throttling_stops_when_the_attempt_budget_is_spent()
    {
        var decision = Policy.Decide(4, Verdict(ErrorFixtures.Example(6)), () => 0.5);

        Assert.Equal(RetryAction.AttemptsExhausted, decision.Action);
        Assert.False(decision.Retries);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(9)]
    public void Auth_failures_never_retry(int example)
    {
        Assert.Equal(RetryAction.Never, Policy.Decide(1, Verdict(ErrorFixtures.Example(example)), () => 0.5).Action);
    }

    [Fact]
    public void Policy_denial_state_write_failure_and_failed_verification_never_retry()
    {
        Assert.Equal(RetryAction.Never, Policy.Decide(1, FailureClassifier.Classify(new FailureObservation("policy", RunPhase.PolicyCheck, null, Termination.Exited, "deny")), () => 0.5).Action);
        Assert.Equal(RetryAction.Never, Policy.Decide(1, Verdict(ErrorFixtures.Example(10), RunPhase.Mutation), () => 0.5).Action);
        Assert.Equal(RetryAction.Never, Policy.Decide(1, FailureClassifier.Classify(new FailureObservation("verify", RunPhase.Verification, 1, Termination.Exited, "503")), () => 0.5).Action);
    }

    [Fact]
    public void After_mutation_a_retry_always_requires_a_replan()
    {
        var partial = Verdict(ErrorFixtures.Example(13), RunPhase.Mutation, before: 5, after: 6);
        var timedOutDuringApply = Verdict("Still creating...", RunPhase.Mutation, Termination.TimedOut);

        Assert.Equal(RetryAction.RequireReplan, Policy.Decide(1, partial, () => 0.5).Action);
        Assert.Equal(RetryAction.RequireReplan, Policy.Decide(1, timedOutDuringApply, () => 0.5).Action);
    }

    [Fact]
    public void A_transient_failure_before_mutation_retries_with_the_same_context()
    {
        var timedOutPlan = Verdict("Refreshing state...", RunPhase.BeforeMutation, Termination.TimedOut);

        var decision = Policy.Decide(1, timedOutPlan, () => 0.5);

        Assert.Equal(RetryAction.RetrySameContext, decision.Action);
        Assert.Equal(TimeSpan.FromSeconds(2), decision.Delay);
    }

    [Fact]
    public void Validation_failures_never_retry_and_a_stale_plan_requires_a_replan()
    {
        Assert.Equal(RetryAction.Never, Policy.Decide(1, Verdict(ErrorFixtures.Example(12)), () => 0.5).Action);
        Assert.Equal(RetryAction.Never, Policy.Decide(1, Verdict("Error: Unsupported argument"), () => 0.5).Action);
        Assert.Equal(RetryAction.RequireReplan, Policy.Decide(1, Verdict(ErrorFixtures.Example(11), RunPhase.Mutation, before: 3, after: 3), () => 0.5).Action);
    }

    [Fact]
    public void A_class_the_environment_does_not_list_is_not_retried()
    {
        var strict = Policy with { RetryableClasses = new HashSet<FailureClass> { FailureClass.Throttled } };

        Assert.Equal(RetryAction.Never, strict.Decide(1, Verdict(ErrorFixtures.Example(2)), () => 0.5).Action);
        Assert.Equal(RetryAction.RetryAfterDelay, Policy.Decide(1, Verdict(ErrorFixtures.Example(2)), () => 0.5).Action);
    }

    [Fact]
    public void Invalid_policies_are_reported_and_the_policy_describes_itself()
    {
        Assert.Equal(2, new RetryPolicy(0, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), new HashSet<FailureClass>()).Validate().Count);
        Assert.Empty(Policy.Validate());
        Assert.Equal("max_attempts=4 backoff=2s..10s retryable=[lock_unavailable,pre_mutation,runner_failure,throttled]", Policy.Describe());
    }
}
