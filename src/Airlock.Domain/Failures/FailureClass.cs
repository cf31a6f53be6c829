namespace Airlock.Domain.Failures;

/// <summary>The failure classes of DESIGN.md §3; each decides what may happen next.</summary>
public enum FailureClass
{
    /// <summary>Nothing changed outside; fix, re-plan, retry allowed.</summary>
    PreMutation,

    /// <summary>A lock (state lock, stack lock) could not be taken; never force-unlock.</summary>
    LockUnavailable,

    /// <summary>Credentials invalid, expired or insufficient; no retry.</summary>
    Auth,

    /// <summary>A gate said no; no retry.</summary>
    PolicyDenied,

    /// <summary>Provider rate limiting; bounded exponential backoff.</summary>
    Throttled,

    /// <summary>Some resources changed, then the run failed; re-plan before any retry.</summary>
    PartialMutation,

    /// <summary>Remote objects changed but the state was not saved; recover state first.</summary>
    StateWriteFailure,

    /// <summary>Apply succeeded, the verification checks failed.</summary>
    VerificationFailed,

    /// <summary>The runner died, crashed or timed out; outcome unknown until reconciled.</summary>
    RunnerFailure,
}

/// <summary>Stable snake_case names of <see cref="FailureClass"/> for JSON, evidence and config.</summary>
public static class FailureClassNames
{
    private static readonly Dictionary<FailureClass, string> Names = new()
    {
        [FailureClass.PreMutation] = "pre_mutation",
        [FailureClass.LockUnavailable] = "lock_unavailable",
        [FailureClass.Auth] = "auth",
        [FailureClass.PolicyDenied] = "policy_denied",
        [FailureClass.Throttled] = "throttled",
        [FailureClass.PartialMutation] = "partial_mutation",
        [FailureClass.StateWriteFailure] = "state_write_failure",
        [FailureClass.VerificationFailed] = "verification_failed",
        [FailureClass.RunnerFailure] = "runner_failure",
    };

    /// <summary>The wire name, e.g. "state_write_failure".</summary>
    public static string ToWireName(this FailureClass failureClass) => Names[failureClass];

    /// <summary>Parses a wire name; false when it names no class.</summary>
    public static bool TryParse(string wireName, out FailureClass failureClass)
    {
        foreach (var (key, value) in Names)
        {
            if (string.Equals(value, wireName, StringComparison.Ordinal))
            {
                failureClass = key;
                return true;
            }
        }

        failureClass = default;
        return false;
    }
}
