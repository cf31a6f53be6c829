using Airlock.Domain.Failures;

using Polly;
using Polly.Retry;

namespace Airlock.Engines.Retry;

/// <summary>The outcome of one attempt: a value, or a classified failure.</summary>
public sealed record AttemptOutcome<T>(T? Value, FailureVerdict? Failure)
{
    /// <summary>True when the attempt succeeded.</summary>
    public bool Succeeded => Failure is null;
}

/// <summary>Constructors of <see cref="AttemptOutcome{T}"/>.</summary>
public static class AttemptOutcome
{
    /// <summary>A successful attempt.</summary>
    public static AttemptOutcome<T> Success<T>(T value) => new(value, null);

    /// <summary>A failed, classified attempt.</summary>
    public static AttemptOutcome<T> Failed<T>(FailureVerdict verdict) => new(default, verdict);
}

/// <summary>One attempt as recorded for events and evidence; attempt 2 never overwrites attempt 1.</summary>
/// <param name="Number">1-based attempt number.</param>
/// <param name="StartedAt">When it started (from the injected TimeProvider).</param>
/// <param name="FinishedAt">When it finished.</param>
/// <param name="Failure">The classified failure, or null when it succeeded.</param>
/// <param name="Decision">What the retry policy decided after it, or null when it succeeded.</param>
public sealed record AttemptRecord(int Number, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, FailureVerdict? Failure, RetryDecision? Decision);

/// <summary>All attempts and the final outcome.</summary>
public sealed record RetryExecution<T>(AttemptOutcome<T> Final, IReadOnlyList<AttemptRecord> Attempts)
{
    /// <summary>The decision after the last attempt (null when it succeeded).</summary>
    public RetryDecision? FinalDecision => Attempts[^1].Decision;
}

/// <summary>
/// Runs an engine step under a <see cref="RetryPolicy"/> with a Polly retry pipeline: Polly owns
/// the loop and the (TimeProvider-driven) waiting; the policy alone decides whether and when to
/// retry each classified failure. Every attempt is recorded separately.
/// </summary>
public sealed class ClassifiedRetryExecutor(RetryPolicy policy, TimeProvider timeProvider, Func<double> random)
{
    /// <summary>Runs <paramref name="attempt"/> (given the 1-based attempt number) until success or a non-retry decision.</summary>
    public async Task<RetryExecution<T>> ExecuteAsync<T>(Func<int, CancellationToken, Task<AttemptOutcome<T>>> attempt, CancellationToken cancellationToken)
    {
        var problems = policy.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid retry policy: " + string.Join("; ", problems), nameof(attempt));
        }

        var records = new List<AttemptRecord>();
        var builder = new ResiliencePipelineBuilder<AttemptOutcome<T>> { TimeProvider = timeProvider };
        if (policy.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<AttemptOutcome<T>>
            {
                MaxRetryAttempts = policy.MaxAttempts - 1,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Succeeded: false } && records[^1].Decision?.Retries == true),
                DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(records[^1].Decision!.Delay),
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.Zero,
                UseJitter = false,
            });
        }

        var pipeline = builder.Build();
        var final = await pipeline.ExecuteAsync(async token =>
        {
            var number = records.Count + 1;
            var started = timeProvider.GetUtcNow();
            var outcome = await attempt(number, token);
            var decision = outcome.Failure is { } failure ? policy.Decide(number, failure, random) : null;
            records.Add(new AttemptRecord(number, started, timeProvider.GetUtcNow(), outcome.Failure, decision));
            return outcome;
        }, cancellationToken);

        return new RetryExecution<T>(final, records);
    }
}
