using System.Globalization;

namespace Airlock.Domain.Failures;

/// <summary>Where in a run the failure happened.</summary>
public enum RunPhase
{
    /// <summary>Init, plan, show, state reads: nothing outside can have changed.</summary>
    BeforeMutation,

    /// <summary>Apply (or anything that mutates) had started.</summary>
    Mutation,

    /// <summary>The apply-time policy gate.</summary>
    PolicyCheck,

    /// <summary>Post-apply verification checks.</summary>
    Verification,
}

/// <summary>How the process ended.</summary>
public enum Termination
{
    /// <summary>It exited by itself.</summary>
    Exited,

    /// <summary>Airlock stopped it because the timeout elapsed.</summary>
    TimedOut,

    /// <summary>Airlock stopped it because someone cancelled the run.</summary>
    Cancelled,

    /// <summary>It was killed by a signal Airlock did not send.</summary>
    Killed,
}

/// <summary>Everything known about a failed step, as evidence for the classifier.</summary>
/// <param name="Operation">The step, e.g. "plan", "apply", "verify".</param>
/// <param name="Phase">Before or after mutation started.</param>
/// <param name="ExitCode">Process exit code, when it exited.</param>
/// <param name="Termination">How it ended.</param>
/// <param name="Output">stdout and stderr text (already redacted).</param>
/// <param name="SerialBefore">State serial (or update version) read before the step, if known.</param>
/// <param name="SerialAfter">State serial read after the step, if known.</param>
/// <param name="ReportedChanges">Counts the engine reported in a structured form (Pulumi events); when null they are read from <paramref name="Output"/>.</param>
public sealed record FailureObservation(
    string Operation,
    RunPhase Phase,
    int? ExitCode,
    Termination Termination,
    string Output,
    long? SerialBefore = null,
    long? SerialAfter = null,
    ChangeCounts? ReportedChanges = null);

/// <summary>The classifier's answer: class, cause, what changed, a one-line statement and a runbook.</summary>
/// <param name="Class">The failure class.</param>
/// <param name="CauseId">The matched <see cref="FailurePattern.Id"/>, or a built-in cause such as "timeout".</param>
/// <param name="RunbookId">The runbook to follow.</param>
/// <param name="Transient">True when the same attempt may succeed unchanged later.</param>
/// <param name="MutationObserved">True when evidence shows that something outside changed.</param>
/// <param name="Changes">What the output says changed.</param>
/// <param name="Statement">One line stating what is known.</param>
public sealed record FailureVerdict(
    FailureClass Class,
    string CauseId,
    string RunbookId,
    bool Transient,
    bool MutationObserved,
    ChangeCounts Changes,
    string Statement);

/// <summary>
/// Decides the failure class of DESIGN.md §3 from evidence only: phase, termination, exit code,
/// the tool's own words (matched against <see cref="FailurePatterns"/>) and state serials.
/// Whether mutation happened is read from the serials and the progress lines, never guessed.
/// </summary>
public static class FailureClassifier
{
    /// <summary>Classifies one failed step.</summary>
    public static FailureVerdict Classify(FailureObservation observation)
    {
        var changes = observation.Phase != RunPhase.Mutation ? ChangeCounts.None : observation.ReportedChanges ?? ChangeCounts.FromOutput(observation.Output);
        var serialAdvanced = observation is { SerialBefore: { } before, SerialAfter: { } after } && after != before;
        var serialUnchanged = observation is { SerialBefore: { } b, SerialAfter: { } a } && a == b;
        var mutationObserved = observation.Phase == RunPhase.Mutation && (serialAdvanced || changes.AnyCompleted);
        var matched = Match(observation.Output);

        (FailureClass cls, string cause, string runbook, bool transient) = Decide(observation, matched, changes, mutationObserved, serialUnchanged);
        return new FailureVerdict(cls, cause, runbook, transient, mutationObserved, changes,
            Statement(observation, cls, matched, changes, mutationObserved, runbook));
    }

    /// <summary>The first table entry whose pattern occurs in <paramref name="output"/>, or null.</summary>
    public static FailurePattern? Match(string output)
    {
        foreach (var pattern in FailurePatterns.All)
        {
            if (pattern.Pattern.IsMatch(output))
            {
                return pattern;
            }
        }

        return null;
    }

    private static (FailureClass, string, string, bool) Decide(
        FailureObservation o, FailurePattern? matched, ChangeCounts changes, bool mutationObserved, bool serialUnchanged)
    {
        switch (o.Phase)
        {
            case RunPhase.PolicyCheck:
                return (FailureClass.PolicyDenied, "policy-gate", "policy-denied", false);
            case RunPhase.Verification:
                return (FailureClass.VerificationFailed, "verification", "verification-failed", false);
        }

        if (o.Termination != Termination.Exited)
        {
            var cause = o.Termination switch
            {
                Termination.TimedOut => "timeout",
                Termination.Cancelled => "cancelled",
                _ => "killed",
            };

            // Before mutation a stopped plan changed nothing, so trying again is safe.
            return (FailureClass.RunnerFailure, cause, o.Phase == RunPhase.Mutation ? "runner-reconcile" : "runner-restart", o.Phase != RunPhase.Mutation);
        }

        if (matched is { Class: FailureClass.StateWriteFailure or FailureClass.LockUnavailable or FailureClass.RunnerFailure })
        {
            return (matched.Class, matched.Id, matched.RunbookId, matched.Transient && !mutationObserved);
        }

        if (mutationObserved)
        {
            var runbook = matched?.Id == "provider-timeout" ? matched.RunbookId : "partial-apply";
            return (FailureClass.PartialMutation, matched?.Id ?? "apply-error", runbook, false);
        }

        // Operations started but the serial cannot confirm nothing changed: assume the worst.
        if (o.Phase == RunPhase.Mutation && changes.AnyStarted && !serialUnchanged && matched?.Class is not (FailureClass.Auth or FailureClass.Throttled or FailureClass.PolicyDenied))
        {
            return (FailureClass.PartialMutation, matched?.Id ?? "apply-outcome-unknown", "partial-apply", false);
        }

        if (matched is not null)
        {
            // provider-timeout without evidence of completion still means a create was issued.
            return (matched.Class, matched.Id, matched.RunbookId, matched.Transient);
        }

        // An exit by signal (128+n) is a crash of the engine, not an answer from it.
        if (o.ExitCode is >= 128)
        {
            return (FailureClass.RunnerFailure, "signal-exit", o.Phase == RunPhase.Mutation ? "runner-reconcile" : "runner-restart", false);
        }

        if (o.Phase == RunPhase.Mutation && !serialUnchanged)
        {
            return (FailureClass.PartialMutation, "apply-outcome-unknown", "partial-apply", false);
        }

        return (FailureClass.PreMutation, "engine-error", "fix-and-replan", false);
    }

    private static string Statement(FailureObservation o, FailureClass cls, FailurePattern? matched, ChangeCounts changes, bool mutationObserved, string runbook)
    {
        var when = cls switch
        {
            FailureClass.PolicyDenied => "was denied by policy",
            FailureClass.VerificationFailed => "failed verification after a successful apply",
            FailureClass.StateWriteFailure => "failed to save state after mutation",
            _ when mutationObserved => "failed after mutation",
            FailureClass.PartialMutation => "failed; mutation may have happened",
            FailureClass.RunnerFailure when o.Phase == RunPhase.Mutation => "stopped during mutation; outcome unknown",
            FailureClass.RunnerFailure => "stopped before mutation; nothing changed",
            _ => "failed before mutation; nothing changed",
        };

        var parts = new List<string>();
        var described = changes.Describe();
        if (described.Length > 0)
        {
            parts.Add(described);
        }

        if (o.Termination == Termination.TimedOut)
        {
            parts.Add("timed out");
        }
        else if (o.Termination == Termination.Cancelled)
        {
            parts.Add("cancelled");
        }
        else if (matched is not null)
        {
            parts.Add(matched.Summary);
        }
        else if (o.ExitCode is { } code)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"exit code {code}"));
        }

        if (o.SerialBefore is { } before)
        {
            parts.Add(o.SerialAfter is { } after && after != before
                ? string.Create(CultureInfo.InvariantCulture, $"state serial {before} → {after}")
                : o.SerialAfter is not null
                    ? string.Create(CultureInfo.InvariantCulture, $"state serial {before} unchanged")
                    : string.Create(CultureInfo.InvariantCulture, $"state serial {before} → unknown"));
        }

        parts.Add("runbook: " + runbook);
        var head = $"{o.Operation} {when}";
        return parts.Count == 1 ? $"{head}; {parts[0]}" : $"{head}: {string.Join("; ", parts)}";
    }
}
