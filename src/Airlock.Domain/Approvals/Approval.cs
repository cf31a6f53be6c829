namespace Airlock.Domain.Approvals;

/// <summary>
/// Everything an approval is bound to. An approval counts only for an apply whose binding is
/// equal in every field: a new commit, a different plan digest, a changed policy result or a
/// new approval-policy version all need fresh approval.
/// </summary>
public sealed record ApprovalBinding(
    string Repository,
    string Commit,
    string Stack,
    string Environment,
    string PlanDigest,
    string PolicyDigest,
    string ApprovalPolicyVersion);

/// <summary>One person's authorisation of one plan.</summary>
/// <param name="Approver">The authenticated actor; never a field a client chooses for someone else.</param>
/// <param name="Binding">What was approved.</param>
/// <param name="ApprovedAt">When.</param>
/// <param name="ValidUntil">After this the approval no longer counts.</param>
/// <param name="DestroyAddresses">Addresses whose destroy/replace this approver explicitly accepted.</param>
public sealed record Approval(
    string Approver,
    ApprovalBinding Binding,
    DateTimeOffset ApprovedAt,
    DateTimeOffset ValidUntil,
    IReadOnlyList<string> DestroyAddresses);

/// <summary>What an environment asks of approvals (airlock.yaml <c>approvals:</c>).</summary>
/// <param name="Required">How many distinct approvers.</param>
/// <param name="Roles">Teams each of which must be represented among the approvers.</param>
/// <param name="SeparationOfDuties">Each required role must be covered by a different person.</param>
public sealed record ApprovalRequirement(int Required, IReadOnlyList<string> Roles, bool SeparationOfDuties)
{
    /// <summary>No approval needed (e.g. dev).</summary>
    public static ApprovalRequirement None { get; } = new(0, [], false);
}
