using Airlock.Domain.Approvals;
using Airlock.Domain.Config;
using Airlock.Domain.Plans;
using Airlock.Domain.Policy;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Policy;

public class BuiltInRulesTests
{
    // Wednesday 2026-11-25 11:00 in Berlin: inside prod's Mon-Fri 09:00-17:00 window.
    private static readonly DateTimeOffset WednesdayMorning = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Saturday = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset InYearEndFreeze = new(2026, 12, 22, 10, 0, 0, TimeSpan.Zero);

    private static readonly WorkspaceConfig Example = Load(File.ReadAllText(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml")));

    private static readonly ApprovalVerdict Approved = new(true, ["alice@example.com", "carol@example.com"], []);

    private static WorkspaceConfig Load(string yaml) => WorkspaceConfigLoader.Load(yaml, "airlock.yaml").Config
        ?? throw new InvalidOperationException("test config is invalid");

    private static PlanSummary Plan(params ResourceChange[] resources) => new() { Engine = "terraform", ToolVersion = "1.8.2", Resources = resources };

    private static ResourceChange Change(string address, string type, PlanAction action) => new() { Address = address, Type = type, Action = action };

    private static readonly PlanSummary TagUpdate = Plan(Change("aws_vpc.main", "aws_vpc", PlanAction.Update));

    private static IReadOnlyList<RuleResult> Evaluate(
        DateTimeOffset now,
        PlanSummary? plan = null,
        PolicyPhase phase = PolicyPhase.Apply,
        ApprovalVerdict? approvals = null,
        BreakGlass? breakGlass = null,
        TimeSpan? planAge = null,
        WorkspaceConfig? workspace = null,
        string? incident = null)
    {
        var config = workspace ?? Example;
        return BuiltInRules.Evaluate(new PolicyContext(
            phase, config, config.Stack("network"), config.FindEnvironment("prod")!, plan ?? TagUpdate, "dave@example.com",
            now - (planAge ?? TimeSpan.FromMinutes(5)), now, approvals ?? Approved, breakGlass, incident));
    }

    private static RuleResult Rule(IReadOnlyList<RuleResult> results, string id) => Assert.Single(results, r => r.Id == id);

    [Fact]
    public void An_approved_fresh_plan_inside_the_window_passes_every_rule()
    {
        var results = Evaluate(WednesdayMorning);

        Assert.All(results, r => Assert.Equal(RuleOutcome.Pass, r.Result));
        Assert.Equal("approved by alice@example.com, carol@example.com", Rule(results, BuiltInRules.ApprovalsRule).Message);
    }

    [Fact]
    public void Outside_the_change_window_an_apply_fails_and_a_plan_is_warned()
    {
        var apply = Rule(Evaluate(Saturday), BuiltInRules.ChangeWindow);
        var plan = Rule(Evaluate(Saturday, phase: PolicyPhase.Plan), BuiltInRules.ChangeWindow);

        Assert.Equal(RuleOutcome.Fail, apply.Result);
        Assert.Equal("outside prod's change window (Mon/Tue/Wed/Thu/Fri 09:00-17:00 Europe/Berlin)", apply.Message);
        Assert.Equal(RuleOutcome.Warn, plan.Result);
    }

    [Fact]
    public void A_freeze_fails_an_apply_unless_a_valid_break_glass_bypasses_it_and_is_flagged()
    {
        var frozen = Evaluate(InYearEndFreeze);
        var glass = new BreakGlass("INC-42", "SEV1 database failover", "erin@example.com", InYearEndFreeze.AddHours(1));
        var bypassed = Evaluate(InYearEndFreeze, breakGlass: glass);

        Assert.Equal("prod is frozen (year-end, 2026-12-20 to 2027-01-03)", Rule(frozen, BuiltInRules.FreezeRule).Message);
        Assert.Equal(RuleOutcome.Fail, Rule(frozen, BuiltInRules.FreezeRule).Result);
        Assert.Equal(RuleOutcome.Warn, Rule(bypassed, BuiltInRules.FreezeRule).Result);
        Assert.Equal(RuleOutcome.Warn, Rule(bypassed, BuiltInRules.BreakGlassRule).Result);
        Assert.DoesNotContain(bypassed, r => r.Result == RuleOutcome.Fail);
    }

    [Theory]
    [InlineData("bob@example.com", "", "needs an incident id")]
    [InlineData("bob@example.com", "INC-1", "bob@example.com is not in the 'break-glass' team")]
    [InlineData("dave@example.com", "INC-1", "dave@example.com cannot approve their own break-glass")]
    public void An_invalid_break_glass_is_refused_and_bypasses_nothing(string approver, string incident, string reason)
    {
        var results = Evaluate(InYearEndFreeze, breakGlass: new BreakGlass(incident, "why", approver, InYearEndFreeze.AddHours(1)));

        Assert.Equal("break-glass refused: " + reason, Rule(results, BuiltInRules.BreakGlassRule).Message);
        Assert.Equal(RuleOutcome.Fail, Rule(results, BuiltInRules.FreezeRule).Result);
    }

    [Fact]
    public void An_expired_break_glass_is_refused()
    {
        var results = Evaluate(InYearEndFreeze, breakGlass: new BreakGlass("INC-1", "why", "erin@example.com", InYearEndFreeze.AddMinutes(-1)));

        Assert.StartsWith("break-glass refused: expired at", Rule(results, BuiltInRules.BreakGlassRule).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Destroying_a_database_needs_a_named_approval_and_break_glass_never_waives_it()
    {
        var plan = Plan(Change("aws_db_instance.main", "aws_db_instance", PlanAction.Delete));
        var unnamed = new ApprovalVerdict(false, ["alice@example.com", "carol@example.com"], ["destroys protected aws_db_instance.main: an approval must name it with --destroy"]);
        var glass = new BreakGlass("INC-42", "SEV1", "erin@example.com", WednesdayMorning.AddHours(1));

        var refused = Rule(Evaluate(WednesdayMorning, plan, approvals: unnamed, breakGlass: glass), BuiltInRules.DestroyGuard);
        var named = Rule(Evaluate(WednesdayMorning, plan, approvals: Approved), BuiltInRules.DestroyGuard);
        var atPlanTime = Rule(Evaluate(WednesdayMorning, plan, PolicyPhase.Plan, approvals: null), BuiltInRules.DestroyGuard);

        Assert.Equal((RuleOutcome.Fail, "destroys aws_db_instance.main without an approval naming it (--destroy)"), (refused.Result, refused.Message));
        Assert.Equal(RuleOutcome.Pass, named.Result);
        Assert.Equal(RuleOutcome.Warn, atPlanTime.Result);
        Assert.Equal(["aws_db_instance.main"], BuiltInRules.GuardedDestroys(Example, Example.FindEnvironment("prod")!, plan));
    }

    [Fact]
    public void Under_a_deny_default_every_destroy_is_guarded_but_stage_guards_none()
    {
        var plan = Plan(Change("aws_instance.web", "aws_instance", PlanAction.Replace), Change("aws_vpc.main", "aws_vpc", PlanAction.Update));

        Assert.Equal(["aws_instance.web"], BuiltInRules.GuardedDestroys(Example, Example.FindEnvironment("prod")!, plan));
        Assert.Empty(BuiltInRules.GuardedDestroys(Example, Example.FindEnvironment("stage")!, plan));
    }

    [Fact]
    public void A_plan_older_than_the_environment_allows_fails_at_apply_time()
    {
        var result = Rule(Evaluate(WednesdayMorning, planAge: TimeSpan.FromMinutes(45)), BuiltInRules.PlanAge);

        Assert.Equal((RuleOutcome.Fail, "the plan is 45m old; prod allows 30m: plan again"), (result.Result, result.Message));
    }

    [Fact]
    public void Missing_approvals_fail_and_break_glass_turns_the_count_into_a_flagged_warning()
    {
        var short1 = new ApprovalVerdict(false, ["alice@example.com"], ["needs 2 approval(s), has 1", "no distinct approver from team 'security'"]);
        var glass = new BreakGlass("INC-7", "outage", "erin@example.com", WednesdayMorning.AddHours(1));

        var refused = Rule(Evaluate(WednesdayMorning, approvals: short1), BuiltInRules.ApprovalsRule);
        var bypassed = Rule(Evaluate(WednesdayMorning, approvals: short1, breakGlass: glass), BuiltInRules.ApprovalsRule);

        Assert.Equal((RuleOutcome.Fail, "needs 2 approval(s), has 1; no distinct approver from team 'security'"), (refused.Result, refused.Message));
        Assert.Equal(RuleOutcome.Warn, bypassed.Result);
        Assert.StartsWith("bypassed by break-glass for incident INC-7", bypassed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Drift_blocks_an_apply_where_the_environment_requires_none()
    {
        var drifted = TagUpdate with { Drift = [new DriftEntry("aws_security_group.web", "aws_security_group", PlanAction.Update, ["ingress"])] };

        var result = Rule(Evaluate(WednesdayMorning, drifted), BuiltInRules.Drift);

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("aws_security_group.web", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_incident_freeze_fails_an_apply()
    {
        var result = Rule(Evaluate(WednesdayMorning, incident: "SEV1 payments outage"), BuiltInRules.IncidentFreezeRule);

        Assert.Equal((RuleOutcome.Fail, "incident freeze on prod: SEV1 payments outage"), (result.Result, result.Message));
    }

    [Fact]
    public void A_plan_made_with_another_tool_version_than_the_pin_fails()
    {
        var pinned = Load(File.ReadAllText(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml"))
            .Replace("  engine: opentofu            # opentofu | terraform | pulumi | command", "  engine: opentofu\n  tools:\n    opentofu: { version: 1.9.0 }", StringComparison.Ordinal));

        var result = Rule(Evaluate(WednesdayMorning, workspace: pinned), BuiltInRules.ToolVersion);

        Assert.Equal((RuleOutcome.Fail, "made with 1.8.2, but the workspace pins 1.9.0"), (result.Result, result.Message));
    }

    [Fact]
    public void An_errored_plan_fails()
    {
        Assert.Equal(RuleOutcome.Fail, Rule(Evaluate(WednesdayMorning, TagUpdate with { Errored = true }), BuiltInRules.PlanErrored).Result);
    }
}
