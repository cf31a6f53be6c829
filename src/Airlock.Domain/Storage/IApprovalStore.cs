namespace Airlock.Domain.Storage;

/// <summary>One recorded approval decision on a plan.</summary>
/// <param name="Id">Store-assigned, increasing.</param>
/// <param name="PlanId">The plan.</param>
/// <param name="Approver">The authenticated actor who decided.</param>
/// <param name="Decision">"approved", "rejected" or "break_glass" (an emergency grant for an incident).</param>
/// <param name="DecidedAt">When.</param>
/// <param name="ValidUntil">After this it no longer counts.</param>
/// <param name="BindingJson">What the decision is bound to (binding fields, destroy addresses) as JSON; opaque to the store.</param>
public sealed record ApprovalRecord(long Id, string PlanId, string Approver, string Decision, DateTimeOffset DecidedAt, DateTimeOffset ValidUntil, string BindingJson)
{
    /// <summary>The decision that authorises.</summary>
    public const string Approved = "approved";

    /// <summary>The decision that blocks until a new plan.</summary>
    public const string Rejected = "rejected";

    /// <summary>A break-glass grant from the break-glass team for one incident; it expires.</summary>
    public const string BreakGlass = "break_glass";
}

/// <summary>Approval decisions, append-only: a decision is never edited or deleted.</summary>
public interface IApprovalStore
{
    /// <summary>Appends a decision.</summary>
    Task<ApprovalRecord> AddAsync(string planId, string approver, string decision, DateTimeOffset decidedAt, DateTimeOffset validUntil, string bindingJson, CancellationToken cancellationToken);

    /// <summary>Every decision on <paramref name="planId"/>, oldest first.</summary>
    Task<IReadOnlyList<ApprovalRecord>> ListForPlanAsync(string planId, CancellationToken cancellationToken);
}
