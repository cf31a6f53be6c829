using Airlock.Domain.Failures;

namespace Airlock.Domain.Tests.Failures;

public sealed class FailureClassifierTests
{
    // Verbatim from the cited public issue threads (see FailurePatterns sources).
    private const string ExpiredTokenText = "ExpiredToken: The security token included in the request is expired";
    private const string PulumiLockText = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or manually delete the lock file(s).";
    private const string PulumiConflictText = "error: [409] Conflict: Another update is currently in progress.";
    private const string PulumiPolicyText = "Diagnostics:\n  aws:ec2:Instance (clstokes-server):\n    mandatory: [required-name-tag] A 'Name' tag is required.\n    A [Name] tag must be defined.";
    private const string RequestLimitText = "* aws_instance.client.455: RequestLimitExceeded: Request limit exceeded.\n    status code: 503, request id:";
    private const string CrashText = "!!!!!!!!!!!!!!!!!!!!!!!!!!! TERRAFORM CRASH !!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\nTerraform crashed! This is always indicative of a bug within Terraform.";

    public static TheoryData<int, RunPhase, FailureClass, string> Examples => new()
    {
        { 1, RunPhase.BeforeMutation, FailureClass.LockUnavailable, "tofu-state-lock-held" },
        { 2, RunPhase.BeforeMutation, FailureClass.LockUnavailable, "tofu-state-lock-held" },
        { 5, RunPhase.BeforeMutation, FailureClass.Throttled, "aws-throttling" },
        { 6, RunPhase.BeforeMutation, FailureClass.Throttled, "http-429" },
        { 7, RunPhase.BeforeMutation, FailureClass.Throttled, "http-429" },
        { 8, RunPhase.BeforeMutation, FailureClass.Auth, "aws-access-denied" },
        { 9, RunPhase.BeforeMutation, FailureClass.Auth, "aws-unauthorized-operation" },
        { 10, RunPhase.Mutation, FailureClass.StateWriteFailure, "tofu-state-persist-failed" },
        { 11, RunPhase.Mutation, FailureClass.PreMutation, "tofu-saved-plan-stale" },
        { 12, RunPhase.BeforeMutation, FailureClass.PreMutation, "tofu-inconsistent-lock-file" },
        { 13, RunPhase.Mutation, FailureClass.PartialMutation, "provider-timeout" },
        { 14, RunPhase.BeforeMutation, FailureClass.PreMutation, "resource-already-exists" },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Real_error_text_from_the_fixtures_gets_its_class(int example, RunPhase phase, FailureClass expected, string cause)
    {
        var verdict = FailureClassifier.Classify(new FailureObservation("apply", phase, 1, Termination.Exited, ErrorFixtures.Example(example)));

        Assert.Equal(expected, verdict.Class);
        Assert.Equal(cause, verdict.CauseId);
    }

    [Theory]
    [InlineData(ExpiredTokenText, FailureClass.Auth, "aws-expired-token")]
    [InlineData(PulumiLockText, FailureClass.LockUnavailable, "pulumi-stack-locked")]
    [InlineData(PulumiConflictText, FailureClass.LockUnavailable, "pulumi-update-conflict")]
    [InlineData(PulumiPolicyText, FailureClass.PolicyDenied, "pulumi-mandatory-policy")]
    [InlineData(RequestLimitText, FailureClass.Throttled, "aws-request-limit-exceeded")]
    [InlineData(CrashText, FailureClass.RunnerFailure, "engine-crashed")]
    public void Real_error_text_from_issue_threads_gets_its_class(string text, FailureClass expected, string cause)
    {
        var verdict = FailureClassifier.Classify(new FailureObservation("plan", RunPhase.BeforeMutation, 1, Termination.Exited, text));

        Assert.Equal(expected, verdict.Class);
        Assert.Equal(cause, verdict.CauseId);
    }

    [Fact]
    public void An_upload_refused_with_AccessDenied_is_a_state_write_failure_not_an_auth_failure()
    {
        var text = ErrorFixtures.Example(10);
        Assert.Contains("AccessDenied", text, StringComparison.Ordinal);

        var verdict = FailureClassifier.Classify(new FailureObservation("apply", RunPhase.Mutation, 1, Termination.Exited, text, 41, 41));

        Assert.Equal(FailureClass.StateWriteFailure, verdict.Class);
        Assert.False(verdict.Transient);
    }

    [Fact]
    public void Partial_apply_states_what_changed_the_serials_and_the_runbook_in_one_line()
    {
        var output = string.Join('\n',
            "aws_instance.a: Creating...",
            "aws_instance.a: Creation complete after 2s [id=i-1]",
            "aws_instance.b: Creating...",
            "aws_instance.b: Creation complete after 3s [id=i-2]",
            "aws_iam_role.c: Creating...",
            "aws_iam_role.c: Creation complete after 1s [id=r-3]",
            "aws_db_instance.d: Modifying... [id=db-4]",
            ErrorFixtures.Example(13));

        var verdict = FailureClassifier.Classify(new FailureObservation("apply", RunPhase.Mutation, 1, Termination.Exited, output, 6421, 6422));

        Assert.Equal(FailureClass.PartialMutation, verdict.Class);
        Assert.True(verdict.MutationObserved);
        Assert.Equal(new ChangeCounts(3, 0, 0, 0, 1, 0), verdict.Changes);
        Assert.Equal("partial-apply-provider-timeout", verdict.RunbookId);
        Assert.Equal(
            "apply failed after mutation: 3 created, 1 update failed; provider timed out waiting for a resource; state serial 6421 → 6422; runbook: partial-apply-provider-timeout",
            verdict.Statement);
    }

    [Fact]
    public void An_advanced_serial_alone_proves_mutation_even_when_the_error_is_throttling()
    {
        var verdict = FailureClassifier.Classify(new FailureObservation("apply", RunPhase.Mutation, 1, Termination.Exited, ErrorFixtures.Example(5), 10, 11));

        Assert.Equal(FailureClass.PartialMutation, verdict.Class);
        Assert.Equal("aws-throttling", verdict.CauseId);
        Assert.Equal("partial-apply", verdict.RunbookId);
    }

    [Fact]
    public void Apply_denied_before_any_change_with_an_unchanged_serial_is_auth()
    {
        var verdict = FailureClassifier.Classify(new FailureObservation("apply", RunPhase.Mutation, 1, Termination.Exited, ErrorFixtures.Example(8), 7, 7));

        Assert.Equal(FailureClass.Auth, verdict.Class);
        Assert.False(verdict.MutationObserved);
        Assert.Equal("apply failed before mutation; nothing changed: access denied; state serial 7 unchanged; runbook: identity-insufficient", verdict.Statement);
    }

    [Fact]
    public void Apply_failing_with_unknown_text_and_no_serial_evidence_is_treated_as_possible_mutation()
    {
        var verdict = FailureClassifier.Classify(new FailureObservation("apply", RunPhase.Mutation, 1, Termination.Exited, "Error: something unexpected"));

        Assert.Equal(FailureClass.PartialMutation, verdict.Class);
        Assert.False(verdict.MutationObserved);
        Assert.Equal("apply-outcome-unknown", verdict.CauseId);
    }

    [Fact]
    public void Apply_failing_with_unknown_text_and_an_unchanged_serial_is_pre_mutation()
    {
        var verdict = FailureClassifier.Classify(new FailureObservation("apply", RunPhase.Mutation, 1, Termination.Exited, "Error: Invalid reference", 3, 3));

        Assert.Equal(FailureClass.PreMutation, verdict.Class);
    }

    [Theory]
    [InlineData(RunPhase.BeforeMutation, true, "runner-restart")]
    [InlineData(RunPhase.Mutation, false, "runner-reconcile")]
    public void A_timeout_is_a_runner_failure_and_transient_only_before_mutation(RunPhase phase, bool transient, string runbook)
    {
        var verdict = FailureClassifier.Classify(new FailureObservation("apply", phase, null, Termination.TimedOut, "still creating..."));

        Assert.Equal(FailureClass.RunnerFailure, verdict.Class);
        Assert.Equal(transient, verdict.Transient);
        Assert.Equal(runbook, verdict.RunbookId);
        Assert.Contains("timed out", verdict.Statement, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_gate_and_verification_phases_have_their_own_classes()
    {
        Assert.Equal(FailureClass.PolicyDenied, FailureClassifier.Classify(new FailureObservation("policy", RunPhase.PolicyCheck, null, Termination.Exited, "rule prod-no-public-ingress failed")).Class);
        Assert.Equal(FailureClass.VerificationFailed, FailureClassifier.Classify(new FailureObservation("verify", RunPhase.Verification, 1, Termination.Exited, "HTTP 503")).Class);
    }

    [Fact]
    public void Apply_complete_totals_are_authoritative_for_completed_counts()
    {
        var counts = ChangeCounts.FromOutput("x.y: Creating...\nx.y: Creation complete after 1s\n\nApply complete! Resources: 3 added, 1 changed, 2 destroyed.");

        Assert.Equal(new ChangeCounts(3, 1, 2, 0, 0, 0), counts);
        Assert.Equal("3 created, 1 updated, 2 deleted", counts.Describe());
    }

    [Fact]
    public void Every_pattern_has_a_source_a_runbook_and_a_unique_id()
    {
        Assert.All(FailurePatterns.All, p =>
        {
            Assert.False(string.IsNullOrWhiteSpace(p.Source));
            Assert.False(string.IsNullOrWhiteSpace(p.RunbookId));
        });
        Assert.Equal(FailurePatterns.All.Count, FailurePatterns.All.Select(p => p.Id).Distinct().Count());
        Assert.All(FailurePatterns.Progress, p => Assert.False(string.IsNullOrWhiteSpace(p.Source)));
    }

    [Fact]
    public void Wire_names_round_trip()
    {
        foreach (var cls in Enum.GetValues<FailureClass>())
        {
            Assert.True(FailureClassNames.TryParse(cls.ToWireName(), out var parsed));
            Assert.Equal(cls, parsed);
        }

        Assert.Equal("state_write_failure", FailureClass.StateWriteFailure.ToWireName());
        Assert.False(FailureClassNames.TryParse("StateWriteFailure", out _));
    }
}
