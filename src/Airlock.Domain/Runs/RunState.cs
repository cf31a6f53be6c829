namespace Airlock.Domain.Runs;

/// <summary>The states of one apply attempt (DESIGN.md §3).</summary>
public enum RunState
{
    /// <summary>Someone asked to apply a plan.</summary>
    Requested,

    /// <summary>Commit, approvals, freshness, windows and freezes are being checked.</summary>
    Validating,

    /// <summary>Waiting in its apply queue.</summary>
    Queued,

    /// <summary>Taking locks in the global order.</summary>
    AcquiringLocks,

    /// <summary>Preparing the working copy and the engine.</summary>
    Preparing,

    /// <summary>Re-plan mode: computing a fresh plan to compare with the approved one.</summary>
    Planning,

    /// <summary>Saved-plan mode: checking integrity, expiry, target binding and state serial.</summary>
    VerifyingSavedPlan,

    /// <summary>Apply-time policy.</summary>
    PolicyCheck,

    /// <summary>The engine is mutating the target.</summary>
    Applying,

    /// <summary>Post-apply checks (http, tcp, command, drift).</summary>
    Verifying,

    /// <summary>Writing evidence and releasing locks.</summary>
    Publishing,

    /// <summary>Applied and verified.</summary>
    Succeeded,

    /// <summary>Refused before anything was touched.</summary>
    Rejected,

    /// <summary>Failed with a failure class.</summary>
    Failed,

    /// <summary>Cancelled by a person allowed to.</summary>
    Cancelled,

    /// <summary>The outcome is unknown (runner died, lease lost): a person must reconcile.</summary>
    NeedsReconciliation,
}

/// <summary>Facts about <see cref="RunState"/> values.</summary>
public static class RunStates
{
    /// <summary>True for states a run never leaves.</summary>
    public static bool IsFinal(this RunState state) => state is RunState.Succeeded or RunState.Rejected or RunState.Failed or RunState.Cancelled;

    /// <summary>
    /// True once the engine may have changed the target: from here on a failure is never
    /// "nothing changed" unless evidence (state serial, engine output) proves it.
    /// </summary>
    public static bool MayHaveMutated(this RunState state) => state is RunState.Applying or RunState.Verifying or RunState.Publishing;

    /// <summary>The snake_case wire name used in events, JSON and evidence.</summary>
    public static string WireName(this RunState state) => state switch
    {
        RunState.AcquiringLocks => "acquiring_locks",
        RunState.VerifyingSavedPlan => "verifying_saved_plan",
        RunState.PolicyCheck => "policy_check",
        RunState.NeedsReconciliation => "needs_reconciliation",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses a wire name back; throws for an unknown name.</summary>
    public static RunState ParseWireName(string name)
    {
        foreach (var state in Enum.GetValues<RunState>())
        {
            if (state.WireName() == name)
            {
                return state;
            }
        }

        throw new ArgumentException($"unknown run state '{name}'", nameof(name));
    }
}
