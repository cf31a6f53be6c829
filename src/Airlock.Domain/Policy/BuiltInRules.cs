using System.Globalization;
using Airlock.Domain.Approvals;
using Airlock.Domain.Config;
using Airlock.Domain.Plans;

namespace Airlock.Domain.Policy;

/// <summary>When policy is evaluated: when the plan is made, and again right before the engine applies.</summary>
public enum PolicyPhase
{
    /// <summary>At plan time: shows reviewers what an apply would face.</summary>
    Plan,

    /// <summary>At apply time: the world moved since plan time (freeze began, plan aged, approvals expired).</summary>
    Apply,
}

/// <summary>An emergency path (DESIGN.md §4): it may bypass windows, freezes and approval counts, never the rest.</summary>
public sealed record BreakGlass(string IncidentId, string Reason, string Approver, DateTimeOffset ExpiresAt);

/// <summary>Everything the built-in rules look at.</summary>
/// <param name="Approvals">The approval verdict for this apply (apply phase); null at plan time.</param>
/// <param name="IncidentFreeze">The reason of an incident freeze active on the environment, if any.</param>
public sealed record PolicyContext(
    PolicyPhase Phase,
    WorkspaceConfig Workspace,
    StackConfig Stack,
    EnvironmentConfig Environment,
    PlanSummary Plan,
    string Requester,
    DateTimeOffset PlanCreatedAt,
    DateTimeOffset Now,
    ApprovalVerdict? Approvals = null,
    BreakGlass? BreakGlass = null,
    string? IncidentFreeze = null);

/// <summary>
/// The built-in rules, each with a stable id and configured from airlock.yaml. Pure: the caller
/// supplies the clock reading, the approval verdict and any incident freeze.
/// </summary>
public static class BuiltInRules
{
    /// <summary>Rule ids, stable across versions: evidence and custom tooling refer to them.</summary>
    public const string PlanErrored = "plan-errored";

    /// <inheritdoc cref="PlanErrored"/>
    public const string ToolVersion = "tool-version";

    /// <inheritdoc cref="PlanErrored"/>
    public const string ApprovalsRule = "approvals";

    /// <inheritdoc cref="PlanErrored"/>
    public const string PlanAge = "plan-age";

    /// <inheritdoc cref="PlanErrored"/>
    public const string ChangeWindow = "change-window";

    /// <inheritdoc cref="PlanErrored"/>
    public const string FreezeRule = "freeze";

    /// <inheritdoc cref="PlanErrored"/>
    public const string IncidentFreezeRule = "incident-freeze";

    /// <inheritdoc cref="PlanErrored"/>
    public const string DestroyGuard = "destroy-guard";

    /// <inheritdoc cref="PlanErrored"/>
    public const string Drift = "drift";

    /// <inheritdoc cref="PlanErrored"/>
    public const string BreakGlassRule = "break-glass";

    /// <summary>The team whose members may approve break-glass.</summary>
    public const string BreakGlassTeam = "break-glass";

    /// <summary>Evaluates every built-in rule, in a fixed order.</summary>
    public static IReadOnlyList<RuleResult> Evaluate(PolicyContext context)
    {
        var breakGlass = ValidBreakGlass(context, out var breakGlassResult);
        var results = new List<RuleResult>
        {
            context.Plan.Errored
                ? Fail(PlanErrored, "the engine reported the plan as failed")
                : Pass(PlanErrored, "the plan completed"),
            CheckToolVersion(context),
            CheckApprovals(context, breakGlass),
            CheckPlanAge(context),
            CheckWindow(context, breakGlass),
            CheckFreeze(context, breakGlass),
            CheckIncidentFreeze(context, breakGlass),
            CheckDestroyGuard(context),
            CheckDrift(context),
        };
        if (breakGlassResult is not null)
        {
            results.Add(breakGlassResult);
        }

        return results;
    }

    /// <summary>
    /// Deletes and replacements that need an approval naming them: every one when the
    /// environment's destroy default is deny, else those of protected resource classes.
    /// </summary>
    public static IReadOnlyList<string> GuardedDestroys(WorkspaceConfig workspace, EnvironmentConfig environment, PlanSummary plan) =>
    [
        .. plan.Resources
            .Where(r => r.Action is PlanAction.Delete or PlanAction.Replace)
            .Where(r => environment.Destroy.Default == DestroyDefault.Deny
                || (workspace.ResourceClassOf(r.Type) is { } cls && environment.Destroy.ProtectedClasses.Contains(cls)))
            .Select(r => r.Address),
    ];

    private static RuleResult CheckToolVersion(PolicyContext c)
    {
        var engine = c.Workspace.EffectiveEngine(c.Stack);
        if (!c.Workspace.Defaults.Tools.TryGetValue(engine, out var pin) || pin.Version is null)
        {
            return Pass(ToolVersion, "no tool version pinned");
        }

        if (c.Plan.ToolVersion is null)
        {
            return Warn(ToolVersion, $"the plan does not record its tool version; {engine} is pinned to {pin.Version}");
        }

        return c.Plan.ToolVersion == pin.Version
            ? Pass(ToolVersion, $"made with the pinned version {pin.Version}")
            : Fail(ToolVersion, $"made with {c.Plan.ToolVersion}, but the workspace pins {pin.Version}");
    }

    private static RuleResult CheckApprovals(PolicyContext c, BreakGlass? breakGlass)
    {
        var required = c.Environment.Approvals;
        var wanted = required.Required == 0
            ? "no approval required"
            : $"{required.Required} approval(s){(required.Roles.IsEmpty ? string.Empty : " from " + string.Join(" and ", required.Roles))}";
        if (c.Phase == PolicyPhase.Plan || required.Required == 0 && required.Roles.IsEmpty)
        {
            return Pass(ApprovalsRule, wanted);
        }

        if (c.Approvals is null)
        {
            return Fail(ApprovalsRule, $"no approvals were evaluated; {c.Environment.Name} needs {wanted}");
        }

        // Destroy naming is the destroy guard's: break-glass never waives it, so it is not counted here.
        var missing = c.Approvals.Problems.Where(p => !p.StartsWith("destroys protected", StringComparison.Ordinal) && !p.StartsWith("approval by ", StringComparison.Ordinal)).ToList();
        if (missing.Count == 0)
        {
            return Pass(ApprovalsRule, "approved by " + string.Join(", ", c.Approvals.Counted));
        }

        return breakGlass is not null
            ? Warn(ApprovalsRule, $"bypassed by break-glass for incident {breakGlass.IncidentId}: {string.Join("; ", missing)}")
            : Fail(ApprovalsRule, string.Join("; ", missing));
    }

    private static RuleResult CheckPlanAge(PolicyContext c)
    {
        var age = c.Now - c.PlanCreatedAt;
        var max = c.Environment.Plan.MaxAge;
        if (c.Phase == PolicyPhase.Plan || age <= max)
        {
            return Pass(PlanAge, $"plans in {c.Environment.Name} may be {Durations.Format(max)} old");
        }

        return Fail(PlanAge, $"the plan is {Durations.Format(Truncate(age))} old; {c.Environment.Name} allows {Durations.Format(max)}: plan again");
    }

    private static RuleResult CheckWindow(PolicyContext c, BreakGlass? breakGlass)
    {
        if (c.Environment.Windows is null)
        {
            return Pass(ChangeWindow, $"{c.Environment.Name} has no change windows");
        }

        if (ChangeCalendar.IsInsideWindow(c.Environment, c.Now))
        {
            return Pass(ChangeWindow, "inside the change window");
        }

        var reason = $"outside {c.Environment.Name}'s change window ({DescribeWindows(c.Environment.Windows)})";
        return breakGlass is not null ? Warn(ChangeWindow, $"{reason}; bypassed by break-glass for incident {breakGlass.IncidentId}")
            : c.Phase == PolicyPhase.Plan ? Warn(ChangeWindow, reason + ": an apply now would be refused")
            : Fail(ChangeWindow, reason);
    }

    private static RuleResult CheckFreeze(PolicyContext c, BreakGlass? breakGlass)
    {
        if (ChangeCalendar.ActiveFreeze(c.Environment, c.Now) is not { } freeze)
        {
            return Pass(FreezeRule, "no freeze in effect");
        }

        var reason = $"{c.Environment.Name} is frozen ({freeze.Name}, {freeze.From:yyyy-MM-dd} to {freeze.To:yyyy-MM-dd})";
        return breakGlass is not null ? Warn(FreezeRule, $"{reason}; bypassed by break-glass for incident {breakGlass.IncidentId}")
            : c.Phase == PolicyPhase.Plan ? Warn(FreezeRule, reason + ": an apply now would be refused")
            : Fail(FreezeRule, reason);
    }

    private static RuleResult CheckIncidentFreeze(PolicyContext c, BreakGlass? breakGlass)
    {
        if (c.IncidentFreeze is null)
        {
            return Pass(IncidentFreezeRule, "no incident freeze");
        }

        var reason = $"incident freeze on {c.Environment.Name}: {c.IncidentFreeze}";
        return breakGlass is not null ? Warn(IncidentFreezeRule, $"{reason}; bypassed by break-glass for incident {breakGlass.IncidentId}")
            : c.Phase == PolicyPhase.Plan ? Warn(IncidentFreezeRule, reason + ": an apply now would be refused")
            : Fail(IncidentFreezeRule, reason);
    }

    private static RuleResult CheckDestroyGuard(PolicyContext c)
    {
        var guarded = GuardedDestroys(c.Workspace, c.Environment, c.Plan);
        if (guarded.Count == 0)
        {
            return Pass(DestroyGuard, "destroys nothing guarded");
        }

        var named = c.Approvals is null
            ? []
            : guarded.Where(a => !c.Approvals.Problems.Any(p => p.StartsWith($"destroys protected {a}:", StringComparison.Ordinal))).ToList();
        var unnamed = guarded.Except(named, StringComparer.Ordinal).ToList();
        if (c.Phase == PolicyPhase.Plan)
        {
            return Warn(DestroyGuard, $"destroys {string.Join(", ", guarded)}: an approval must name each with --destroy");
        }

        // Never bypassed, not even by break-glass.
        return unnamed.Count == 0
            ? Pass(DestroyGuard, "every guarded destroy is named by an approval: " + string.Join(", ", named))
            : Fail(DestroyGuard, $"destroys {string.Join(", ", unnamed)} without an approval naming it (--destroy)");
    }

    private static RuleResult CheckDrift(PolicyContext c)
    {
        if (!c.Environment.Plan.RequireNoMaterialDrift || c.Plan.Drift.Count == 0)
        {
            return Pass(Drift, c.Plan.Drift.Count == 0 ? "no drift" : $"{c.Plan.Drift.Count} resource(s) changed outside the tool");
        }

        var reason = $"{c.Plan.Drift.Count} resource(s) changed outside the tool (e.g. {c.Plan.Drift[0].Address}); {c.Environment.Name} requires no drift: reconcile first";
        return c.Phase == PolicyPhase.Plan ? Warn(Drift, reason) : Fail(Drift, reason);
    }

    private static BreakGlass? ValidBreakGlass(PolicyContext c, out RuleResult? result)
    {
        result = null;
        if (c.BreakGlass is not { } b)
        {
            return null;
        }

        var problem =
            string.IsNullOrWhiteSpace(b.IncidentId) ? "needs an incident id"
            : string.IsNullOrWhiteSpace(b.Reason) ? "needs a reason"
            : string.Equals(b.Approver, c.Requester, StringComparison.OrdinalIgnoreCase) ? $"{b.Approver} cannot approve their own break-glass"
            : !c.Workspace.TeamMembers(BreakGlassTeam).Contains(b.Approver, StringComparer.OrdinalIgnoreCase) ? $"{b.Approver} is not in the '{BreakGlassTeam}' team"
            : c.Now >= b.ExpiresAt ? $"expired at {b.ExpiresAt.ToString("u", CultureInfo.InvariantCulture)}"
            : null;
        if (problem is not null)
        {
            result = Fail(BreakGlassRule, "break-glass refused: " + problem);
            return null;
        }

        // A warning, never a pass: everything break-glass does is flagged for post-incident review.
        result = Warn(BreakGlassRule, $"break-glass for incident {b.IncidentId} approved by {b.Approver}: {b.Reason}");
        return b;
    }

    private static string DescribeWindows(ChangeWindows windows) =>
        string.Join(", ", windows.Allow.Select(p => $"{string.Join('/', p.Days.Select(d => d.ToString()[..3]))} {p.From:hh\\:mm}-{(p.To == TimeSpan.FromDays(1) ? "24:00" : p.To.ToString(@"hh\:mm", CultureInfo.InvariantCulture))}"))
        + " " + windows.TimeZone.Id;

    private static TimeSpan Truncate(TimeSpan span) => TimeSpan.FromSeconds(Math.Floor(span.TotalSeconds));

    private static RuleResult Pass(string id, string message) => new(id, RuleOutcome.Pass, message);

    private static RuleResult Warn(string id, string message) => new(id, RuleOutcome.Warn, message);

    private static RuleResult Fail(string id, string message) => new(id, RuleOutcome.Fail, message);
}
