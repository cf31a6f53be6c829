using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Airlock.Application.Plans;

/// <summary>
/// What is stored beside an encrypted plan artifact: everything an approver reviews and an apply
/// checks, without decrypting the artifact (the summary never holds sensitive values in clear).
/// </summary>
public sealed record PlanMetadata
{
    /// <summary>Who ran the plan.</summary>
    public required string Requester { get; init; }

    /// <summary>Repository (origin URL or root path).</summary>
    public required string Repository { get; init; }

    /// <summary>Branch at plan time, if any.</summary>
    public string? Branch { get; init; }

    /// <summary>Base branch and its commit at plan time, if known.</summary>
    public string? BaseBranch { get; init; }

    /// <summary>The base branch's commit at plan time.</summary>
    public string? BaseCommit { get; init; }

    /// <summary>True when the working tree had uncommitted changes.</summary>
    public bool Dirty { get; init; }

    /// <summary>"saved" or "replan": the environment's mode when planned.</summary>
    public required string Mode { get; init; }

    /// <summary>Engine kind ("opentofu", "pulumi", "command"...).</summary>
    public required string Engine { get; init; }

    /// <summary>Tool name and version that planned.</summary>
    public required string ToolVersion { get; init; }

    /// <summary>State serial before planning, when the engine reports one.</summary>
    public long? StateSerial { get; init; }

    /// <summary>State lineage, when reported.</summary>
    public string? StateLineage { get; init; }

    /// <summary>Digest of the dependency lock file, when there is one.</summary>
    public string? DependencyLockDigest { get; init; }

    /// <summary>Account of the target (environment or stack config).</summary>
    public string? Account { get; init; }

    /// <summary>Region of the target.</summary>
    public string? Region { get; init; }

    /// <summary>The execution identity profile the apply will use.</summary>
    public string? IdentityProfile { get; init; }

    /// <summary>Approval policy version (see AirlockWorkspace.ApprovalPolicyVersion).</summary>
    public required string ApprovalPolicyVersion { get; init; }

    /// <summary>The release whose infrastructure this plan reverts, or null.</summary>
    public string? RevertOf { get; init; }

    /// <summary>The pull request whose head this plan was made of (the GitHub flow), or null.</summary>
    public int? PullRequest { get; init; }

    /// <summary>
    /// Where the plan's source tree is when it is not the workspace itself: a revert plan is made (and must be
    /// applied) in a worktree of the earlier commit under .airlock/reverts/.
    /// </summary>
    public string? SourceRoot { get; init; }

    /// <summary>The plan-time policy result's digest: approvals bind to it.</summary>
    public required string PolicyDigest { get; init; }

    /// <summary>The plan-time policy result.</summary>
    public required JsonObject Policy { get; init; }

    /// <summary>The plan summary (PlanSummaryJson form).</summary>
    public required JsonObject Summary { get; init; }

    /// <summary>File names inside the artifact archive.</summary>
    public string? PlanFile { get; init; }

    /// <summary>Plan JSON file name inside the archive.</summary>
    public required string PlanJsonFile { get; init; }

    /// <summary>Event log file name inside the archive (Pulumi).</summary>
    public string? EventLogFile { get; init; }

    /// <summary>True when the plan proposes changes.</summary>
    public bool HasChanges { get; init; }

    /// <summary>CanonicalJson digest of the inputs the plan was made with (upstream outputs); null when the stack has none.</summary>
    public string? InputsDigest { get; init; }

    /// <summary>Digest of each input's value by input name (never the values), to name what changed before an apply.</summary>
    public IReadOnlyDictionary<string, string>? InputDigests { get; init; }

    /// <summary>Each input's source ("stack.output") by input name.</summary>
    public IReadOnlyDictionary<string, string>? InputSources { get; init; }

    /// <summary>Guarded deletes/replacements an approval must name.</summary>
    public IReadOnlyList<string> GuardedDestroys { get; init; } = [];

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The stored JSON form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Reads the stored JSON form.</summary>
    public static PlanMetadata FromJson(string json) =>
        JsonSerializer.Deserialize<PlanMetadata>(json, Options) ?? throw new JsonException("plan metadata is null");
}
