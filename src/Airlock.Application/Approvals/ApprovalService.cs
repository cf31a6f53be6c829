using System.Globalization;

using Airlock.Application.Apply;
using Airlock.Application.Plans;
using Airlock.Domain.Approvals;
using Airlock.Domain.Config;
using Airlock.Domain.Evidence;
using Airlock.Domain.Policy;
using Airlock.Domain.Storage;

using EvidenceRunEvent = Airlock.Domain.Evidence.RunEvent;

namespace Airlock.Application.Approvals;

/// <summary>An approval request: which plan, by whom, and which guarded destroys the approver explicitly accepts.</summary>
public sealed record ApproveRequest(string PlanId, string Actor, IReadOnlyList<string> Destroy);

/// <summary>A break-glass grant request from a member of the break-glass team.</summary>
public sealed record BreakGlassRequest(string PlanId, string Actor, string IncidentId, string Reason, TimeSpan ValidFor);

/// <summary>A rejection request: which plan, by whom (the authenticated actor) and why (required).</summary>
public sealed record RejectRequest(string PlanId, string Actor, string Reason);

/// <summary>A plan with its approval decisions and where they stand now.</summary>
public sealed record PlanApprovals(PlanRecord Plan, PlanMetadata Metadata, IReadOnlyList<ApprovalRecord> Decisions, ApprovalVerdict Verdict)
{
    /// <summary>The rejection that blocks this plan for good, or null.</summary>
    public Rejection? Rejection { get; init; }
}

/// <summary>
/// <c>airlock approve</c>: records an approval bound to exactly one plan (repository, commit, stack,
/// environment, plan digest, policy digest, approval-policy version) and a validity window — refused
/// for the requester, for people outside the owner and role teams, and for expired or superseded plans.
/// </summary>
public sealed class ApprovalService(AirlockServices services)
{
    /// <summary>The longest a break-glass grant may last.</summary>
    public static readonly TimeSpan MaxBreakGlassValidity = TimeSpan.FromHours(4);

    /// <summary>Records an approval; <see cref="RefusedException"/> when it may not be given.</summary>
    public async Task<PlanApprovals> ApproveAsync(ApproveRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (plan, metadata, stack, environment) = await ApprovablePlanAsync(request.PlanId, cancellationToken);
        await RefuseIfRejectedAsync(plan, cancellationToken);
        var refusal = ApprovalGate.CheckApprover(request.Actor, metadata.Requester, [.. stack.Owners], Requirement(environment), services.Workspace.Teams());
        if (refusal is not null)
        {
            throw new RefusedException(refusal.Reason);
        }

        var destroyable = PlanDestroys(metadata);
        var unknown = request.Destroy.Where(a => !destroyable.Contains(a)).ToList();
        if (unknown.Count > 0)
        {
            throw new UserInputException($"--destroy {string.Join(", ", unknown)}: this plan does not delete or replace {(unknown.Count == 1 ? "it" : "them")} (it deletes/replaces: {(destroyable.Count == 0 ? "nothing" : string.Join(", ", destroyable))})");
        }

        var now = services.Time.GetUtcNow();
        var binding = Binding(plan, metadata);
        var record = await services.Store.Approvals.AddAsync(plan.PlanId, request.Actor, ApprovalRecord.Approved, now, plan.ExpiresAt, StoredApproval.BindingJson(binding, [.. request.Destroy.Distinct(StringComparer.Ordinal)]), cancellationToken);
        await services.Evidence.RecordEventAsync(
            new EvidenceRunEvent(plan.PlanId, "approved", plan.Stack, plan.Environment, request.Actor, now, new Dictionary<string, string>
            {
                ["plan_digest"] = plan.PlanDigest,
                ["commit"] = plan.Commit,
                ["policy_digest"] = metadata.PolicyDigest,
                ["approval_policy_version"] = metadata.ApprovalPolicyVersion,
                ["valid_until"] = record.ValidUntil.ToString("O", CultureInfo.InvariantCulture),
                ["destroy"] = string.Join(",", request.Destroy),
            }), cancellationToken);
        return await ListAsync(plan.PlanId, cancellationToken);
    }

    /// <summary>
    /// Records a rejection: same eligibility as an approval (not the requester, in an owner or role team),
    /// a reason is required, and the plan can then never be applied; a fresh plan starts over.
    /// </summary>
    public async Task<PlanApprovals> RejectAsync(RejectRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Reason))
        {
            throw new UserInputException("a rejection needs a reason (--reason TEXT)");
        }

        var reason = string.Join(' ', request.Reason.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        var (plan, metadata, stack, environment) = await ApprovablePlanAsync(request.PlanId, cancellationToken);
        var refusal = ApprovalGate.CheckApprover(request.Actor, metadata.Requester, [.. stack.Owners], Requirement(environment), services.Workspace.Teams());
        if (refusal is not null)
        {
            throw new RefusedException(refusal.Reason.Replace(" cannot approve it", " cannot reject it", StringComparison.Ordinal));
        }

        var now = services.Time.GetUtcNow();
        await services.Store.Approvals.AddAsync(plan.PlanId, request.Actor, ApprovalRecord.Rejected, now, plan.ExpiresAt, StoredApproval.BindingJson(Binding(plan, metadata), [], reason: reason), cancellationToken);
        await services.Evidence.RecordEventAsync(
            new EvidenceRunEvent(plan.PlanId, "rejected", plan.Stack, plan.Environment, request.Actor, now, new Dictionary<string, string>
            {
                ["plan_digest"] = plan.PlanDigest,
                ["commit"] = plan.Commit,
                ["reason"] = reason,
            }), cancellationToken);
        return await ListAsync(plan.PlanId, cancellationToken);
    }

    /// <summary>
    /// Why <paramref name="actor"/> may not approve or reject <paramref name="planId"/> right now, in one line, or
    /// null when they may (for a dashboard to show next to a disabled button). Records nothing.
    /// </summary>
    public async Task<string?> WhyNotAsync(string planId, string actor, CancellationToken cancellationToken)
    {
        try
        {
            var (plan, metadata, stack, environment) = await ApprovablePlanAsync(planId, cancellationToken);
            var decisions = await services.Store.Approvals.ListForPlanAsync(plan.PlanId, cancellationToken);
            if (Rejection.Standing(StoredApproval.Rejections(decisions)) is { } rejection)
            {
                return $"plan {plan.PlanId} was {rejection.Statement}: plan again";
            }

            if (ApprovalGate.CheckApprover(actor, metadata.Requester, [.. stack.Owners], Requirement(environment), services.Workspace.Teams()) is { } refusal)
            {
                return refusal.Reason;
            }

            return null;
        }
        catch (Exception e) when (e is RefusedException or UserInputException)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Whether <paramref name="actor"/> is someone who may decide on this plan at all (the API answers 403 with
    /// this line): not the requester, and in an owner/role team — or, for <paramref name="breakGlass"/>, in the
    /// break-glass team. Null when eligible; an unknown plan throws <see cref="UserInputException"/>.
    /// </summary>
    public async Task<string?> NotEligibleAsync(string planId, string actor, bool breakGlass, CancellationToken cancellationToken)
    {
        var plan = await services.Store.Plans.GetAsync(planId, cancellationToken) ?? throw UnknownPlan(planId);
        var metadata = PlanMetadata.FromJson(plan.MetadataJson);
        if (breakGlass)
        {
            return string.Equals(actor, metadata.Requester, StringComparison.OrdinalIgnoreCase)
                ? $"{actor} requested this plan and cannot grant its break-glass (separation of duties)"
                : services.Workspace.Config.TeamMembers(BuiltInRules.BreakGlassTeam).Contains(actor, StringComparer.OrdinalIgnoreCase) ? null : $"{actor} is not in the '{BuiltInRules.BreakGlassTeam}' team";
        }

        var stack = services.Workspace.Stack(plan.Stack);
        var environment = services.Workspace.Environment(plan.Environment);
        return ApprovalGate.CheckApprover(actor, metadata.Requester, [.. stack.Owners], Requirement(environment), services.Workspace.Teams())?.Reason;
    }

    /// <summary>Records a break-glass grant for an incident; it expires after <see cref="BreakGlassRequest.ValidFor"/>.</summary>
    public async Task<BreakGlassGrant> GrantBreakGlassAsync(BreakGlassRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.IncidentId) || string.IsNullOrWhiteSpace(request.Reason))
        {
            throw new UserInputException("break-glass needs --incident ID and --reason TEXT");
        }

        if (request.ValidFor <= TimeSpan.Zero || request.ValidFor > MaxBreakGlassValidity)
        {
            throw new UserInputException($"break-glass --valid-for must be between 1s and {Durations.Format(MaxBreakGlassValidity)}");
        }

        var (plan, metadata, _, _) = await ApprovablePlanAsync(request.PlanId, cancellationToken);
        await RefuseIfRejectedAsync(plan, cancellationToken);
        if (string.Equals(request.Actor, metadata.Requester, StringComparison.OrdinalIgnoreCase))
        {
            throw new RefusedException($"{request.Actor} requested this plan and cannot grant its break-glass (separation of duties)");
        }

        if (!services.Workspace.Config.TeamMembers(BuiltInRules.BreakGlassTeam).Contains(request.Actor, StringComparer.OrdinalIgnoreCase))
        {
            throw new RefusedException($"{request.Actor} is not in the '{BuiltInRules.BreakGlassTeam}' team");
        }

        var now = services.Time.GetUtcNow();
        var until = now + request.ValidFor < plan.ExpiresAt ? now + request.ValidFor : plan.ExpiresAt;
        var record = await services.Store.Approvals.AddAsync(plan.PlanId, request.Actor, StoredApproval.BreakGlassDecision, now, until,
            StoredApproval.BindingJson(Binding(plan, metadata), [], request.IncidentId.Trim(), request.Reason.Trim()), cancellationToken);
        await services.Evidence.RecordEventAsync(
            new EvidenceRunEvent(plan.PlanId, "break_glass_granted", plan.Stack, plan.Environment, request.Actor, now, new Dictionary<string, string>
            {
                ["incident"] = request.IncidentId.Trim(),
                ["reason"] = request.Reason.Trim(),
                ["expires_at"] = until.ToString("O", CultureInfo.InvariantCulture),
            }), cancellationToken);
        return StoredApproval.BreakGlassGrants([record])[0];
    }

    /// <summary>The plan's decisions and the verdict they give right now.</summary>
    public async Task<PlanApprovals> ListAsync(string planId, CancellationToken cancellationToken)
    {
        var plan = await services.Store.Plans.GetAsync(planId, cancellationToken) ?? throw UnknownPlan(planId);
        var metadata = PlanMetadata.FromJson(plan.MetadataJson);
        var decisions = await services.Store.Approvals.ListForPlanAsync(planId, cancellationToken);
        var stack = services.Workspace.Stack(plan.Stack);
        var environment = services.Workspace.Environment(plan.Environment);
        var verdict = ApprovalGate.Evaluate(
            CurrentBinding(plan, metadata, stack, environment),
            metadata.Requester,
            [.. stack.Owners],
            Requirement(environment),
            services.Workspace.Teams(),
            StoredApproval.Approvals(decisions),
            metadata.GuardedDestroys,
            services.Time.GetUtcNow());
        var rejection = Rejection.Standing(StoredApproval.Rejections(decisions));
        if (rejection is not null)
        {
            // A rejection outweighs any number of approvals.
            verdict = verdict with { Satisfied = false, Problems = [rejection.Statement, .. verdict.Problems] };
        }

        return new PlanApprovals(plan, metadata, decisions, verdict) { Rejection = rejection };
    }

    /// <summary>The environment's approval requirement.</summary>
    public static ApprovalRequirement Requirement(EnvironmentConfig environment) =>
        new(environment.Approvals.Required, [.. environment.Approvals.Roles], environment.Approvals.SeparationOfDuties);

    /// <summary>What an approval of <paramref name="plan"/> is bound to, as recorded at plan time.</summary>
    public static ApprovalBinding Binding(PlanRecord plan, PlanMetadata metadata) =>
        new(metadata.Repository, plan.Commit, plan.Stack, plan.Environment, plan.PlanDigest, metadata.PolicyDigest, metadata.ApprovalPolicyVersion);

    /// <summary>
    /// The binding an apply of <paramref name="plan"/> needs now: as recorded, except that the approval-policy
    /// version is today's, so approvals given under different rules (teams, roles, counts) stop counting.
    /// </summary>
    public ApprovalBinding CurrentBinding(PlanRecord plan, PlanMetadata metadata, StackConfig stack, EnvironmentConfig environment) =>
        Binding(plan, metadata) with { ApprovalPolicyVersion = services.Workspace.ApprovalPolicyVersion(stack, environment) };

    /// <summary>A one-line error for an unknown plan id.</summary>
    public static UserInputException UnknownPlan(string planId) => new($"unknown plan '{planId}' (airlock plan prints the id; plans are per store)");

    private async Task RefuseIfRejectedAsync(PlanRecord plan, CancellationToken cancellationToken)
    {
        var decisions = await services.Store.Approvals.ListForPlanAsync(plan.PlanId, cancellationToken);
        if (Rejection.Standing(StoredApproval.Rejections(decisions)) is { } rejection)
        {
            throw new RefusedException($"plan {plan.PlanId} was {rejection.Statement}: plan again");
        }
    }

    private static HashSet<string> PlanDestroys(PlanMetadata metadata)
    {
        var set = new HashSet<string>(metadata.GuardedDestroys, StringComparer.Ordinal);
        foreach (var resource in metadata.Summary["resources"]?.AsArray() ?? [])
        {
            if ((string?)resource?["action"] is "delete" or "replace" && (string?)resource?["address"] is { } address)
            {
                set.Add(address);
            }
        }

        return set;
    }

    private async Task<(PlanRecord Plan, PlanMetadata Metadata, StackConfig Stack, EnvironmentConfig Environment)> ApprovablePlanAsync(string planId, CancellationToken cancellationToken)
    {
        var plan = await services.Store.Plans.GetAsync(planId, cancellationToken) ?? throw UnknownPlan(planId);
        var metadata = PlanMetadata.FromJson(plan.MetadataJson);
        var stack = services.Workspace.Stack(plan.Stack);
        var environment = services.Workspace.Environment(plan.Environment);
        var now = services.Time.GetUtcNow();
        if (now >= plan.ExpiresAt)
        {
            throw new RefusedException($"plan {plan.PlanId} expired at {plan.ExpiresAt.ToUniversalTime():u}: plan again");
        }

        // Per target region: a plan for us-east-1 never supersedes one for us-west-2.
        var latest = await services.Store.Plans.LatestAsync(plan.Stack, plan.Environment, plan.Region, cancellationToken);
        if (latest is not null && latest.PlanId != plan.PlanId)
        {
            var where = plan.Region is null ? plan.Environment : $"{plan.Environment} ({plan.Region})";
            throw new RefusedException($"plan {plan.PlanId} is superseded by {latest.PlanId}, made later for {plan.Stack} in {where}: review and approve that one");
        }

        // Nothing left to decide on a plan that was already applied (an approval covers one apply).
        if (await new ApplyService(services).SpentReasonAsync(plan, null, cancellationToken) is { } spent)
        {
            throw new RefusedException(spent);
        }

        if ((string?)metadata.Policy["decision"] == "deny")
        {
            var failed = metadata.Policy["rules"]!.AsArray().FirstOrDefault(r => (string?)r?["result"] == "fail");
            throw new RefusedException($"plan-time policy denies plan {plan.PlanId} ({(string?)failed?["id"]}: {(string?)failed?["message"]}): fix it and plan again");
        }

        if (services.Workspace.ApprovalPolicyVersion(stack, environment) != metadata.ApprovalPolicyVersion)
        {
            throw new RefusedException($"the approval rules for {stack.Name} in {environment.Name} (teams, roles or counts) changed since plan {plan.PlanId}: plan again");
        }

        return (plan, metadata, stack, environment);
    }
}
