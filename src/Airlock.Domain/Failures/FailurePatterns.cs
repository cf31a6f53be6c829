using System.Text.RegularExpressions;

namespace Airlock.Domain.Failures;

/// <summary>One recognised piece of real tool output and what it means.</summary>
/// <param name="Id">Stable id, recorded in evidence as the cause.</param>
/// <param name="Class">The class this text implies on its own (the classifier may still
/// escalate it to partial_mutation when the evidence shows that mutation happened).</param>
/// <param name="Pattern">Matched against stdout+stderr, multi-line, case-sensitive unless the pattern says otherwise.</param>
/// <param name="RunbookId">The runbook an operator follows.</param>
/// <param name="Transient">True when the same attempt may succeed later without any change by a person.</param>
/// <param name="Summary">Short human cause used in the one-line statement.</param>
/// <param name="Source">Where the text was seen: a fixture section or a public issue thread.</param>
public sealed record FailurePattern(
    string Id,
    FailureClass Class,
    Regex Pattern,
    string RunbookId,
    bool Transient,
    string Summary,
    string Source);

/// <summary>A progress line an engine prints while it mutates, used to count what changed.</summary>
/// <param name="Kind">What the line reports.</param>
/// <param name="Pattern">Line pattern; group "addr" is the resource address, groups "added"/"changed"/"destroyed" hold totals.</param>
/// <param name="Source">Where the wording comes from.</param>
public sealed record ProgressPattern(ProgressKind Kind, Regex Pattern, string Source);

/// <summary>What a progress line reports.</summary>
public enum ProgressKind
{
    /// <summary>A create started.</summary>
    CreateStarted,

    /// <summary>An in-place update started.</summary>
    UpdateStarted,

    /// <summary>A delete started.</summary>
    DeleteStarted,

    /// <summary>A create finished.</summary>
    CreateCompleted,

    /// <summary>An update finished.</summary>
    UpdateCompleted,

    /// <summary>A delete finished.</summary>
    DeleteCompleted,

    /// <summary>The final "Apply complete! Resources: ..." totals.</summary>
    ApplyTotals,
}

/// <summary>
/// THE table of recognised engine output. Every pattern the classifier uses lives here, with the
/// source of its wording; nothing else in the code matches tool text. Order matters: the first
/// matching entry wins, so the more severe or more specific meaning comes first (a failed state
/// upload that says "AccessDenied" is a state write failure, not an auth failure).
/// </summary>
public static class FailurePatterns
{
    private const string ErrorFixtures = "../shared/fixtures/error-messages.md";
    private const RegexOptions Options = RegexOptions.Multiline | RegexOptions.CultureInvariant;
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Failure texts, most specific first.</summary>
    public static IReadOnlyList<FailurePattern> All { get; } =
    [
        // --- state could not be written: remote objects may have changed, state did not ---
        P("tofu-state-persist-failed", FailureClass.StateWriteFailure, @"Failed to persist state to backend",
            "state-persist-failed", false, "state not persisted to the backend (errored.tfstate written)",
            $"{ErrorFixtures} §5 Example 10 (manheim/terraform-pipeline#429); OpenTofu internal/backend/local/backend_apply.go"),
        P("tofu-state-save-failed", FailureClass.StateWriteFailure, @"Failed to save state|Error saving state:",
            "state-persist-failed", false, "state save failed",
            $"{ErrorFixtures} §5 Example 10; hashicorp-services/tfm#75 (\"Error saving state: error uploading state: Conflict\")"),

        // --- locks held by someone else ---
        P("tofu-state-lock-held", FailureClass.LockUnavailable, @"Error acquiring the state lock|Error locking state",
            "state-lock-held", true, "state lock held by another run",
            $"{ErrorFixtures} §1 Examples 1-2 (Genaker/TerraformMagentoCloud#22, cal-itp/benefits#960, alphagov/govuk-infrastructure#297)"),
        P("pulumi-stack-locked", FailureClass.LockUnavailable, @"the stack is currently locked by \d+ lock\(s\)",
            "state-lock-held", true, "stack locked by another update",
            "pulumi/pulumi#9148; DefangLabs/defang#385; pulumi/pulumi-kubernetes-operator#252"),
        P("pulumi-update-conflict", FailureClass.LockUnavailable, @"\[409\] Conflict: Another update is currently in progress",
            "state-lock-held", true, "another update is in progress",
            "pulumi/pulumi#2073; pulumi/pulumi#3207; pulumi/actions#1034"),

        // --- the engine itself died ---
        P("engine-crashed", FailureClass.RunnerFailure, @"(?:Terraform|OpenTofu) crashed!|^panic: ",
            "engine-crashed", false, "engine crashed",
            "hashicorp/terraform#30646 and #31273 (\"Terraform crashed! This is always indicative of a bug\"); hashicorp/terraform#30157 (\"panic: value is marked\")"),

        // --- a provider operation was issued and timed out: the object may exist ---
        P("provider-timeout", FailureClass.PartialMutation, @"timeout while waiting for state to become",
            "partial-apply-provider-timeout", false, "provider timed out waiting for a resource",
            $"{ErrorFixtures} §8 Example 13 (hashicorp/terraform#15019, hashicorp/terraform#20130)"),

        // --- rate limiting ---
        P("aws-throttling", FailureClass.Throttled, @"Throttling: Rate exceeded|ThrottlingException",
            "provider-throttled", true, "provider throttling (Rate exceeded)",
            $"{ErrorFixtures} §3 Example 5 (hashicorp/terraform-provider-aws#5171)"),
        P("aws-request-limit-exceeded", FailureClass.Throttled, @"RequestLimitExceeded",
            "provider-throttled", true, "provider throttling (RequestLimitExceeded)",
            "hashicorp/terraform#3579; hashicorp/terraform#6096 (\"RequestLimitExceeded: Request limit exceeded.\")"),
        P("http-429", FailureClass.Throttled, @"RESPONSE 429|429 Too Many Requests|status code 429|ResourceRequestsThrottled",
            "provider-throttled", true, "provider rate limit (HTTP 429)",
            $"{ErrorFixtures} §3 Examples 6-7 (Azure/alzlib#168, logzio/terraform-provider-logzio#105)"),

        // --- identity ---
        P("aws-expired-token", FailureClass.Auth, @"ExpiredToken|The security token included in the request is expired",
            "credentials-expired", false, "credentials expired",
            "hashicorp/terraform-provider-aws#15618 (\"ExpiredToken: The security token included in the request is expired\"); GoogleCloudPlatform/terraformer#963"),
        P("aws-invalid-client-token", FailureClass.Auth, @"InvalidClientTokenId",
            "credentials-invalid", false, "credentials invalid",
            "hashicorp/terraform#5822 (\"InvalidClientTokenId: The security token included in the request is invalid.\")"),
        P("aws-access-denied", FailureClass.Auth, @"\bAccessDenied\b|is not authorized to perform",
            "identity-insufficient", false, "access denied",
            $"{ErrorFixtures} §4 Example 8 (hashicorp-education/learn-consul-get-started-vms#9)"),
        P("aws-unauthorized-operation", FailureClass.Auth, @"UnauthorizedOperation",
            "identity-insufficient", false, "operation not authorised",
            $"{ErrorFixtures} §4 Example 9 (hashicorp/terraform-provider-aws#8720)"),

        // --- policy packs that refuse the change ---
        P("pulumi-mandatory-policy", FailureClass.PolicyDenied, @"^\s*mandatory: \[",
            "policy-denied", false, "mandatory policy violated",
            "pulumi/pulumi-policy#174 (\"mandatory: [required-name-tag] A 'Name' tag is required.\")"),

        // --- the plan or configuration is not applicable as it stands: re-plan or fix, never blind retry ---
        P("tofu-saved-plan-stale", FailureClass.PreMutation, @"Saved plan is stale",
            "saved-plan-stale", false, "saved plan is stale",
            $"{ErrorFixtures} §6 Example 11 (app-sre/qontract-reconcile#1840)"),
        P("tofu-inconsistent-lock-file", FailureClass.PreMutation, @"Inconsistent dependency lock file",
            "dependency-lock-inconsistent", false, "dependency lock file inconsistent",
            $"{ErrorFixtures} §7 Example 12 (opentofu/opentofu#716, hashicorp/terraform-provider-hashicups#129)"),
        P("resource-already-exists", FailureClass.PreMutation, @"EntityAlreadyExists|already exists",
            "resource-already-exists", false, "resource already exists",
            $"{ErrorFixtures} §9 Example 14 (terraform-aws-modules/terraform-aws-ecs#363, milliHQ/terraform-aws-next-js#326)"),
    ];

    /// <summary>Progress lines of an OpenTofu/Terraform apply.</summary>
    public static IReadOnlyList<ProgressPattern> Progress { get; } =
    [
        G(ProgressKind.CreateStarted, @"^(?<addr>\S.*?): Creating\.\.\."),
        G(ProgressKind.UpdateStarted, @"^(?<addr>\S.*?): Modifying\.\.\."),
        G(ProgressKind.DeleteStarted, @"^(?<addr>\S.*?): Destroying\.\.\."),
        G(ProgressKind.CreateCompleted, @"^(?<addr>\S.*?): Creation complete after"),
        G(ProgressKind.UpdateCompleted, @"^(?<addr>\S.*?): Modifications complete after"),
        G(ProgressKind.DeleteCompleted, @"^(?<addr>\S.*?): Destruction complete after"),
        new(ProgressKind.ApplyTotals,
            new Regex(@"Apply complete! Resources: (?<added>\d+) added, (?<changed>\d+) changed, (?<destroyed>\d+) destroyed\.", Options, MatchTimeout),
            "OpenTofu internal/command/views/apply.go and hashicorp/terraform backend local: \"Apply complete! Resources: %d added, %d changed, %d destroyed.\""),
    ];

    private static FailurePattern P(string id, FailureClass failureClass, string pattern, string runbook, bool transient, string summary, string source) =>
        new(id, failureClass, new Regex(pattern, Options, MatchTimeout), runbook, transient, summary, source);

    private static ProgressPattern G(ProgressKind kind, string pattern) =>
        new(kind, new Regex(pattern, Options, MatchTimeout),
            "OpenTofu internal/command/views/hook_ui.go (PreApply/PostApply messages), e.g. \"azurerm_resource_group.main: Modifications complete after 1s [id=...]\" in real apply logs");
}
