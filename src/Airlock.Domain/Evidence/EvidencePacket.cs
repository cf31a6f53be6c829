namespace Airlock.Domain.Evidence;

/// <summary>
/// The evidence packet of one run attempt (success or failure): everything an auditor needs to
/// answer who changed what, where, when, under which approval and with what result.
/// Serialized with <see cref="EvidenceJson.Options"/>; its JSON schema is docs/evidence.schema.json,
/// generated from these types by <see cref="EvidenceSchema"/> so model and schema cannot drift.
/// </summary>
public sealed record EvidencePacket(
    string SchemaVersion,
    string RunId,
    int Attempt,
    EvidenceSource Source,
    EvidenceTarget Target,
    EvidenceAuthorisation Authorisation,
    EvidenceExecution Execution,
    EvidencePlan? Plan,
    EvidencePolicy? Policy,
    EvidenceStateSerials StateSerial,
    EvidenceResult Result,
    IReadOnlyList<EvidenceVerification> Verification,
    IReadOnlyList<EvidenceArtifact> Artifacts,
    IReadOnlyList<string> Tags)
{
    /// <summary>The schema version written into every new packet; bump on any incompatible change.</summary>
    public const string CurrentSchemaVersion = "airlock.evidence/v1";
}

/// <summary>Where the change came from.</summary>
public sealed record EvidenceSource(string Repository, string Commit, string? Branch, int? PullRequest);

/// <summary>What the change was applied to.</summary>
public sealed record EvidenceTarget(string Stack, string Environment, string? Account, string? Region, string? StateBackend);

/// <summary>Who asked and who approved, under which policy; break-glass when it was used.</summary>
public sealed record EvidenceAuthorisation(
    string Requester,
    IReadOnlyList<EvidenceApproval> Approvals,
    string? ApprovalPolicyVersion,
    EvidenceBreakGlass? BreakGlass);

/// <summary>One approval with its time.</summary>
public sealed record EvidenceApproval(string Approver, DateTimeOffset ApprovedAt);

/// <summary>An emergency override: who, why, and for how long.</summary>
public sealed record EvidenceBreakGlass(string ActivatedBy, string Reason, DateTimeOffset ActivatedAt, DateTimeOffset? ExpiresAt);

/// <summary>Where and with what the run executed. Identity claims only, never secrets.</summary>
public sealed record EvidenceExecution(
    string RunnerHost,
    string Tool,
    string ToolVersion,
    string? IdentityProfile,
    IReadOnlyDictionary<string, string> IdentityClaims);

/// <summary>The plan that was approved and applied.</summary>
public sealed record EvidencePlan(string Mode, string Digest, EvidenceResourceCounts ResourceCounts, IReadOnlyList<string> Risks);

/// <summary>Resource change counts of a plan.</summary>
public sealed record EvidenceResourceCounts(int Add, int Change, int Destroy, int Replace);

/// <summary>The policy evaluation the run passed through.</summary>
public sealed record EvidencePolicy(string BundleDigest, string Decision, IReadOnlyList<EvidenceRuleResult> Rules);

/// <summary>One policy rule's outcome.</summary>
public sealed record EvidenceRuleResult(string RuleId, string Outcome, string? Message);

/// <summary>The state serial before and after the run (null when unknown, e.g. no state yet).</summary>
public sealed record EvidenceStateSerials(long? Before, long? After);

/// <summary>How the run attempt ended.</summary>
/// <param name="Status">"succeeded", "failed", "cancelled" or "blocked".</param>
/// <param name="FailureClass">The failure class when it failed (see the failure classification).</param>
/// <param name="Statement">A one-line human statement of what happened.</param>
/// <param name="RunbookId">The runbook a responder should follow, when one applies.</param>
/// <param name="ExitCode">The tool's exit code, when it ran.</param>
/// <param name="StartedAt">When the attempt started.</param>
/// <param name="FinishedAt">When the attempt finished.</param>
public sealed record EvidenceResult(
    string Status,
    string? FailureClass,
    string Statement,
    string? RunbookId,
    int? ExitCode,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt);

/// <summary>One post-apply verification (drift check, health check, smoke test).</summary>
public sealed record EvidenceVerification(string Check, string Status, string? Detail);

/// <summary>The digest of a stored artifact (plan file, redacted log), so the artifact can be checked later.</summary>
public sealed record EvidenceArtifact(string Kind, string Digest, long? SizeBytes);

/// <summary>A run event (queued, planned, approved, applying, finished ...), recorded as it happens.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Type">What happened, e.g. "queued", "plan_finished", "approved", "apply_started".</param>
/// <param name="Stack">The stack the run targets.</param>
/// <param name="Environment">The environment the run targets.</param>
/// <param name="Actor">Who caused the event, when a person did.</param>
/// <param name="At">When it happened.</param>
/// <param name="Detail">Small extra facts (no secrets).</param>
public sealed record RunEvent(
    string RunId,
    string Type,
    string Stack,
    string Environment,
    string? Actor,
    DateTimeOffset At,
    IReadOnlyDictionary<string, string> Detail);
