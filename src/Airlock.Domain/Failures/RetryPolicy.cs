using System.Globalization;

namespace Airlock.Domain.Failures;

/// <summary>What to do after a failed attempt.</summary>
public enum RetryAction
{
    /// <summary>Wait <see cref="RetryDecision.Delay"/>, then run the same step again (throttling, held locks).</summary>
    RetryAfterDelay,

    /// <summary>Run the same step again with the same inputs; nothing changed outside.</summary>
    RetrySameContext,

    /// <summary>Something may have changed: a fresh plan (and its approval checks) must come first.</summary>
    RequireReplan,

    /// <summary>Retrying cannot help (identity, policy, validation, state write); a person must act.</summary>
    Never,

    /// <summary>The class may be retried, but the attempt budget is spent.</summary>
    AttemptsExhausted,
}

/// <summary>The decision for one failed attempt, with the reason in words for logs and evidence.</summary>
public sealed record RetryDecision(RetryAction Action, TimeSpan Delay, string Reason)
{
    /// <summary>True when the executor should run another attempt.</summary>
    public bool Retries => Action is RetryAction.RetryAfterDelay or RetryAction.RetrySameContext;
}

/// <summary>
/// Per-environment retry policy as data. Throttling gets bounded exponential backoff with jitter;
/// transient failures before mutation retry with the same context; anything after mutation
/// requires a re-plan; auth, policy and validation failures never retry.
/// </summary>
/// <param name="MaxAttempts">Total attempts including the first (1 = no retries).</param>
/// <param name="BaseDelay">Backoff for the first retry.</param>
/// <param name="MaxDelay">Upper bound of any single delay.</param>
/// <param name="RetryableClasses">Classes this environment allows to retry automatically.</param>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay, IReadOnlySet<FailureClass> RetryableClasses)
{
    /// <summary>A conservative default: 3 attempts, 2 s doubling up to 60 s, only throttling, held locks and pre-mutation runner failures.</summary>
    public static RetryPolicy Default { get; } = new(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60),
        new HashSet<FailureClass> { FailureClass.Throttled, FailureClass.LockUnavailable, FailureClass.PreMutation, FailureClass.RunnerFailure });

    /// <summary>Checks the values; returns the problems (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxAttempts < 1)
        {
            problems.Add("max_attempts must be at least 1");
        }

        if (BaseDelay < TimeSpan.Zero)
        {
            problems.Add("backoff base must not be negative");
        }

        if (MaxDelay < BaseDelay)
        {
            problems.Add("backoff max must be at least the base");
        }

        return problems;
    }

    /// <summary>
    /// Decides what follows failed attempt number <paramref name="attempt"/> (1-based).
    /// <paramref name="random"/> returns a value in [0, 1) and supplies the jitter, so tests can fix it.
    /// </summary>
    public RetryDecision Decide(int attempt, FailureVerdict verdict, Func<double> random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var name = verdict.Class.ToWireName();

        switch (verdict.Class)
        {
            case FailureClass.Auth:
            case FailureClass.PolicyDenied:
            case FailureClass.StateWriteFailure:
            case FailureClass.VerificationFailed:
                return new RetryDecision(RetryAction.Never, TimeSpan.Zero, $"{name} never retries automatically (runbook: {verdict.RunbookId})");
            case FailureClass.PartialMutation:
                return new RetryDecision(RetryAction.RequireReplan, TimeSpan.Zero, "mutation happened; re-plan before any retry");
        }

        if (verdict.MutationObserved || (verdict.Class == FailureClass.RunnerFailure && !verdict.Transient))
        {
            return new RetryDecision(RetryAction.RequireReplan, TimeSpan.Zero, $"{name} with an unknown or changed outside world; reconcile and re-plan first");
        }

        if (!verdict.Transient)
        {
            // Validation-type failures (stale plan, bad config, inconsistent lock file) fail the same way again.
            return verdict.CauseId == "tofu-saved-plan-stale"
                ? new RetryDecision(RetryAction.RequireReplan, TimeSpan.Zero, "saved plan is stale; re-plan")
                : new RetryDecision(RetryAction.Never, TimeSpan.Zero, $"{name} ({verdict.CauseId}) is not transient; fix and re-plan");
        }

        if (!RetryableClasses.Contains(verdict.Class))
        {
            return new RetryDecision(RetryAction.Never, TimeSpan.Zero, $"{name} is not retryable in this environment");
        }

        if (attempt >= MaxAttempts)
        {
            return new RetryDecision(RetryAction.AttemptsExhausted, TimeSpan.Zero,
                string.Create(CultureInfo.InvariantCulture, $"{name}: {attempt} of {MaxAttempts} attempts used"));
        }

        if (verdict.Class is FailureClass.Throttled or FailureClass.LockUnavailable)
        {
            var delay = Backoff(attempt, random);
            return new RetryDecision(RetryAction.RetryAfterDelay, delay,
                string.Create(CultureInfo.InvariantCulture, $"{name}: retry {attempt + 1} of {MaxAttempts} after {delay.TotalSeconds:0.###}s"));
        }

        return new RetryDecision(RetryAction.RetrySameContext, BaseDelay,
            string.Create(CultureInfo.InvariantCulture, $"{name} before mutation: retry {attempt + 1} of {MaxAttempts} with the same inputs"));
    }

    /// <summary>
    /// "Equal jitter": half the capped exponential delay is fixed, the other half random, so the
    /// delay stays within [cap/2, cap] and concurrent runs do not retry in lockstep.
    /// </summary>
    public TimeSpan Backoff(int attempt, Func<double> random)
    {
        var exponent = Math.Min(attempt - 1, 30);
        var capped = Math.Min(BaseDelay.Ticks * Math.Pow(2, exponent), MaxDelay.Ticks);
        var sample = Math.Clamp(random(), 0.0, 1.0);
        return TimeSpan.FromTicks((long)((capped / 2) + (capped / 2 * sample)));
    }

    /// <summary>One line describing the policy, for logs and evidence.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"max_attempts={MaxAttempts} backoff={BaseDelay.TotalSeconds:0.###}s..{MaxDelay.TotalSeconds:0.###}s retryable=[{string.Join(",", RetryableClasses.Select(c => c.ToWireName()).Order(StringComparer.Ordinal))}]");
}
