using Airlock.Application.Verification;
using Airlock.Domain.Policy;
using Airlock.Domain.Runs;
using Airlock.Engines.Processes;

namespace Airlock.Application.Apply;

/// <summary>
/// An apply request: the approved plan and who asks; break-glass when it is an emergency; tags for its evidence packet
/// (e.g. a release's app:v…-infra:v…); the run id when the caller fixed it up front (a queued server apply), else a new one.
/// </summary>
public sealed record ApplyRequest(string PlanId, string Actor, BreakGlassUse? BreakGlass = null, IReadOnlyList<string>? Tags = null, string? RunId = null);

/// <summary>The requester's side of break-glass: the incident and why (the grant comes from the break-glass team).</summary>
public sealed record BreakGlassUse(string? IncidentId, string? Reason);

/// <summary>How an apply ended.</summary>
/// <param name="RunId">The run.</param>
/// <param name="State">Its final state.</param>
/// <param name="ExitCode">0 applied and verified, 1 failed, 3 refused, 130 cancelled.</param>
/// <param name="Statement">One line saying what happened.</param>
/// <param name="FailureClass">Wire name of the failure class when it failed.</param>
/// <param name="RunbookId">Runbook to follow, when one applies.</param>
/// <param name="EvidenceSequence">The evidence packet's sequence number in the chain.</param>
/// <param name="SerialBefore">State serial before the apply.</param>
/// <param name="SerialAfter">State serial after the apply.</param>
/// <param name="Verification">Post-apply checks.</param>
/// <param name="Policy">Apply-time policy result, when evaluated.</param>
public sealed record ApplyOutcome(
    string RunId,
    RunState State,
    int ExitCode,
    string Statement,
    string? FailureClass,
    string? RunbookId,
    long? EvidenceSequence,
    long? SerialBefore,
    long? SerialAfter,
    IReadOnlyList<CheckOutcome> Verification,
    PolicyResult? Policy);

/// <summary>What a host shows while an apply runs: transitions, notes and the tool's (redacted) output.</summary>
public interface IApplyObserver
{
    /// <summary>The run moved to a new state.</summary>
    void Transition(RunTransition transition);

    /// <summary>Something worth telling that is not a state change (queue position, retry, cancel requested).</summary>
    void Note(string message);

    /// <summary>Where tool output goes.</summary>
    IOutputSink ToolOutput { get; }
}

/// <summary>An observer that shows nothing.</summary>
public sealed class SilentApplyObserver : IApplyObserver
{
    /// <summary>The shared instance.</summary>
    public static SilentApplyObserver Instance { get; } = new();

    /// <inheritdoc />
    public IOutputSink ToolOutput => NullOutputSink.Instance;

    /// <inheritdoc />
    public void Transition(RunTransition transition)
    {
    }

    /// <inheritdoc />
    public void Note(string message)
    {
    }
}
