using Airlock.Domain.Failures;
using Airlock.Engines.Retry;

using Microsoft.Extensions.Time.Testing;

namespace Airlock.Engines.Tests;

public sealed class ClassifiedRetryExecutorTests
{
    private static readonly RetryPolicy Policy = new(4, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30),
        new HashSet<FailureClass> { FailureClass.Throttled, FailureClass.LockUnavailable, FailureClass.RunnerFailure });

    // error-messages.md Example 5 (hashicorp/terraform-provider-aws#5171).
    private const string Throttling = "aws_route53_record.primary.0: \nThrottling: Rate exceeded\n\tstatus code: 400, request id: 322cd13f-85db-11e8-bcd1-65141cf76cbe";

    // error-messages.md Example 8 (hashicorp-education/learn-consul-get-started-vms#9).
    private const string AccessDenied = "│ Error: adding role ...: AccessDenied: User: arn:aws:iam::1234:user/aws2029-i is not authorized to perform: iam:PassRole";

    private static FailureVerdict Classify(string text, RunPhase phase = RunPhase.BeforeMutation, long? before = null, long? after = null) =>
        FailureClassifier.Classify(new FailureObservation("plan", phase, 1, Termination.Exited, text, before, after));

    /// <summary>Advances fake time until the run finishes: no real sleeping for backoff.</summary>
    private static async Task<T> DriveAsync<T>(FakeTimeProvider time, Task<T> run)
    {
        while (!run.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Yield();
        }

        return await run;
    }

    [Fact]
    public async Task Throttling_then_success_retries_with_backoff_on_the_fake_clock_and_records_each_attempt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var executor = new ClassifiedRetryExecutor(Policy, time, () => 0.5);
        var calls = 0;

        var execution = await DriveAsync(time, executor.ExecuteAsync(async (attempt, _) =>
        {
            calls++;
            await Task.Yield();
            return attempt < 3 ? AttemptOutcome.Failed<string>(Classify(Throttling)) : AttemptOutcome.Success("planned");
        }, CancellationToken.None));

        Assert.True(execution.Final.Succeeded);
        Assert.Equal("planned", execution.Final.Value);
        Assert.Equal(3, calls);
        Assert.Equal([1, 2, 3], execution.Attempts.Select(a => a.Number));
        Assert.Equal([FailureClass.Throttled, FailureClass.Throttled], execution.Attempts.Take(2).Select(a => a.Failure!.Class));
        Assert.Equal([TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(3)], execution.Attempts.Take(2).Select(a => a.Decision!.Delay));
        // Attempt 2 starts no earlier than the decided delay after attempt 1 ended (fake clock).
        Assert.True(execution.Attempts[1].StartedAt - execution.Attempts[0].FinishedAt >= TimeSpan.FromSeconds(1.5));
        Assert.True(execution.Attempts[2].StartedAt - execution.Attempts[1].FinishedAt >= TimeSpan.FromSeconds(3));
        Assert.Null(execution.FinalDecision);
    }

    [Fact]
    public async Task Throttling_that_never_ends_stops_after_max_attempts()
    {
        var time = new FakeTimeProvider();
        var executor = new ClassifiedRetryExecutor(Policy, time, () => 0.0);

        var execution = await DriveAsync(time, executor.ExecuteAsync((_, _) => Task.FromResult(AttemptOutcome.Failed<string>(Classify(Throttling))), CancellationToken.None));

        Assert.False(execution.Final.Succeeded);
        Assert.Equal(4, execution.Attempts.Count);
        Assert.Equal(RetryAction.AttemptsExhausted, execution.FinalDecision!.Action);
    }

    [Fact]
    public async Task Auth_failure_runs_exactly_once()
    {
        var time = new FakeTimeProvider();
        var calls = 0;

        var execution = await new ClassifiedRetryExecutor(Policy, time, () => 0.5).ExecuteAsync((_, _) =>
        {
            calls++;
            return Task.FromResult(AttemptOutcome.Failed<string>(Classify(AccessDenied)));
        }, CancellationToken.None);

        Assert.Equal(1, calls);
        Assert.Equal(RetryAction.Never, execution.FinalDecision!.Action);
    }

    [Fact]
    public async Task A_partial_apply_is_never_retried_blindly_and_asks_for_a_replan()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        var partial = FailureClassifier.Classify(new FailureObservation("apply", RunPhase.Mutation, 1, Termination.Exited, Throttling, 6421, 6422));

        var execution = await new ClassifiedRetryExecutor(Policy, time, () => 0.5).ExecuteAsync((_, _) =>
        {
            calls++;
            return Task.FromResult(AttemptOutcome.Failed<string>(partial));
        }, CancellationToken.None);

        Assert.Equal(1, calls);
        Assert.Equal(FailureClass.PartialMutation, execution.Attempts[0].Failure!.Class);
        Assert.Equal(RetryAction.RequireReplan, execution.FinalDecision!.Action);
    }

    [Fact]
    public async Task A_plan_timeout_retries_with_the_same_context()
    {
        var time = new FakeTimeProvider();
        var timedOut = FailureClassifier.Classify(new FailureObservation("plan", RunPhase.BeforeMutation, null, Termination.TimedOut, string.Empty));

        var execution = await DriveAsync(time, new ClassifiedRetryExecutor(Policy, time, () => 0.5).ExecuteAsync((attempt, _) =>
            Task.FromResult(attempt == 1 ? AttemptOutcome.Failed<int>(timedOut) : AttemptOutcome.Success(7)), CancellationToken.None));

        Assert.Equal(7, execution.Final.Value);
        Assert.Equal(RetryAction.RetrySameContext, execution.Attempts[0].Decision!.Action);
    }
}
