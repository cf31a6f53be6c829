using Airlock.Domain.Approvals;

namespace Airlock.Domain.Tests.Approvals;

public class ApprovalGateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    // The teams of ../shared/examples/airlock.yaml.
    private static readonly Dictionary<string, IReadOnlyList<string>> Teams = new()
    {
        ["platform"] = ["alice@example.com", "bob@example.com"],
        ["security"] = ["carol@example.com"],
        ["data"] = ["dave@example.com"],
        ["break-glass"] = ["erin@example.com"],
    };

    private static readonly ApprovalRequirement Prod = new(2, ["platform", "security"], SeparationOfDuties: true);
    private static readonly string[] NetworkOwners = ["platform"];
    private static readonly ApprovalBinding Binding = new("acme/infra", "a1b2c3d4e5f6a7b8", "network", "prod", "sha256:plan", "sha256:policy", "prod@3");

    private static Approval By(string who, ApprovalBinding? binding = null, TimeSpan? validFor = null, params string[] destroys) =>
        new(who, binding ?? Binding, Now.AddMinutes(-5), Now.Add(validFor ?? TimeSpan.FromHours(1)), destroys);

    private static ApprovalVerdict Evaluate(IReadOnlyList<Approval> approvals, string requester = "dave@example.com", ApprovalRequirement? requirement = null, IReadOnlyList<string>? protectedDestroys = null, IReadOnlyDictionary<string, IReadOnlyList<string>>? teams = null) =>
        ApprovalGate.Evaluate(Binding, requester, NetworkOwners, requirement ?? Prod, teams ?? Teams, approvals, protectedDestroys ?? [], Now);

    [Fact]
    public void Prod_is_satisfied_by_one_platform_and_one_security_approver()
    {
        var verdict = Evaluate([By("alice@example.com"), By("carol@example.com")]);

        Assert.True(verdict.Satisfied, string.Join("\n", verdict.Problems));
        Assert.Equal(["alice@example.com", "carol@example.com"], verdict.Counted);
    }

    [Fact]
    public void Two_platform_approvers_do_not_cover_the_security_role()
    {
        var verdict = Evaluate([By("alice@example.com"), By("bob@example.com")]);

        Assert.False(verdict.Satisfied);
        Assert.Contains("no distinct approver from team 'security'", verdict.Problems);
    }

    [Fact]
    public void The_same_person_approving_twice_counts_once()
    {
        var verdict = Evaluate([By("alice@example.com"), By("ALICE@example.com")]);

        Assert.False(verdict.Satisfied);
        Assert.Contains("needs 2 approval(s), has 1", verdict.Problems);
    }

    [Fact]
    public void A_self_approval_is_refused_up_front_and_never_counts()
    {
        Assert.Equal(
            "alice@example.com requested this plan and cannot approve it (separation of duties)",
            ApprovalGate.CheckApprover("alice@example.com", "alice@example.com", NetworkOwners, Prod, Teams)?.Reason);

        var verdict = Evaluate([By("alice@example.com"), By("carol@example.com")], requester: "alice@example.com");

        Assert.False(verdict.Satisfied);
        Assert.Contains(verdict.Problems, p => p.StartsWith("approval by alice@example.com does not count: alice@example.com requested this plan", StringComparison.Ordinal));
    }

    [Fact]
    public void Someone_outside_the_owner_and_role_teams_cannot_approve()
    {
        Assert.Equal(
            "erin@example.com is not in a team that may approve this stack (platform, security)",
            ApprovalGate.CheckApprover("erin@example.com", "dave@example.com", NetworkOwners, Prod, Teams)?.Reason);
    }

    [Fact]
    public void An_approval_for_another_commit_or_plan_digest_does_not_count()
    {
        var otherCommit = By("carol@example.com", Binding with { Commit = "ffffffffffffffff" });
        var otherPlan = By("carol@example.com", Binding with { PlanDigest = "sha256:other" });

        var first = Evaluate([By("alice@example.com"), otherCommit]);
        var second = Evaluate([By("alice@example.com"), otherPlan]);

        Assert.False(first.Satisfied);
        Assert.Contains("approval by carol@example.com does not count: it was given for commit ffffffffffff, not a1b2c3d4e5f6", first.Problems);
        Assert.Contains("approval by carol@example.com does not count: it was given for a different plan digest", second.Problems);
    }

    [Fact]
    public void An_expired_approval_does_not_count()
    {
        var verdict = Evaluate([By("alice@example.com"), By("carol@example.com", validFor: TimeSpan.FromMinutes(-1))]);

        Assert.False(verdict.Satisfied);
        Assert.Contains(verdict.Problems, p => p.StartsWith("approval by carol@example.com does not count: it expired at", StringComparison.Ordinal));
    }

    [Fact]
    public void Separation_of_duties_finds_an_assignment_when_one_person_is_in_both_roles()
    {
        var teams = new Dictionary<string, IReadOnlyList<string>>(Teams) { ["security"] = ["carol@example.com", "alice@example.com"] };

        // alice must cover security so that bob can cover platform: a greedy choice would fail.
        var verdict = Evaluate([By("alice@example.com"), By("bob@example.com")], teams: teams);

        Assert.True(verdict.Satisfied, string.Join("\n", verdict.Problems));
    }

    [Fact]
    public void A_protected_destroy_needs_an_approval_that_names_it()
    {
        string[] destroys = ["aws_db_instance.main"];

        var unnamed = Evaluate([By("alice@example.com"), By("carol@example.com")], protectedDestroys: destroys);
        var named = Evaluate([By("alice@example.com", null, null, "aws_db_instance.main"), By("carol@example.com")], protectedDestroys: destroys);

        Assert.False(unnamed.Satisfied);
        Assert.Contains("destroys protected aws_db_instance.main: an approval must name it with --destroy", unnamed.Problems);
        Assert.True(named.Satisfied, string.Join("\n", named.Problems));
    }

    [Fact]
    public void No_approvals_are_needed_where_none_are_required()
    {
        Assert.True(Evaluate([], requirement: ApprovalRequirement.None).Satisfied);
    }
}
