namespace Airlock.Domain.Plans;

/// <summary>An import that the plan performs: the import id and/or the resource identity (Terraform 1.12+).</summary>
public sealed record ImportingInfo(string? Id, string? IdentityJson);

/// <summary>The semantic view of one resource instance in a plan. Never holds attribute values.</summary>
public sealed record ResourceChange
{
    /// <summary>Full address (Terraform address or Pulumi URN).</summary>
    public required string Address { get; init; }

    /// <summary>Resource type, as the engine names it (aws_db_instance, aws:rds/instance:Instance).</summary>
    public required string Type { get; init; }

    /// <summary>What happens to it.</summary>
    public required PlanAction Action { get; init; }

    /// <summary>Managed resource or data source.</summary>
    public ResourceMode Mode { get; init; } = ResourceMode.Managed;

    /// <summary>Provider name (registry.terraform.io/hashicorp/aws) or Pulumi provider reference.</summary>
    public string? Provider { get; init; }

    /// <summary>Module address (module.a.module.b) or Pulumi parent URN; null at the root.</summary>
    public string? Module { get; init; }

    /// <summary>For <see cref="PlanAction.Replace"/>: which object goes first.</summary>
    public ReplaceOrder? ReplaceOrder
    {
        get => _details?.ReplaceOrder;
        init => _details = value is null && _details is null ? null : Details with { ReplaceOrder = value };
    }

    /// <summary>The moved-from address when a `moved` block (or refactoring) renamed it.</summary>
    public string? PreviousAddress
    {
        get => _details?.PreviousAddress;
        init => _details = value is null && _details is null ? null : Details with { PreviousAddress = value };
    }

    /// <summary>Set when the plan imports the object.</summary>
    public ImportingInfo? Importing
    {
        get => _details?.Importing;
        init => _details = value is null && _details is null ? null : Details with { Importing = value };
    }

    /// <summary>Deposed object key when the change concerns a deposed (old create-before-destroy) object.</summary>
    public string? Deposed
    {
        get => _details?.Deposed;
        init => _details = value is null && _details is null ? null : Details with { Deposed = value };
    }

    /// <summary>Attribute paths that force replacement.</summary>
    public IReadOnlyList<string> ReplacePaths
    {
        get => _details?.ReplacePaths ?? [];
        init => _details = value.Count == 0 && _details is null ? null : Details with { ReplacePaths = value };
    }

    /// <summary>Why the engine chose this action (replace_because_tainted, delete_because_no_resource_config...).</summary>
    public string? ActionReason
    {
        get => _details?.ActionReason;
        init => _details = value is null && _details is null ? null : Details with { ActionReason = value };
    }

    /// <summary>An update whose only changed attributes are tags/labels.</summary>
    public bool TagOnly
    {
        get => _details?.TagOnly ?? false;
        init => _details = !value && _details is null ? null : Details with { TagOnly = value };
    }

    /// <summary>Attribute paths whose value changes (or becomes known only after apply).</summary>
    public IReadOnlyList<string> ChangedPaths
    {
        get => _details?.ChangedPaths ?? [];
        init => _details = value.Count == 0 && _details is null ? null : Details with { ChangedPaths = value };
    }

    // A plan holds one record per resource (137k in the 200 MB benchmark plan) and most of them
    // carry none of the fields below: they live in one optional object, which keeps the common
    // record at five references and two enums (64 bytes instead of 120).
    private ResourceDetails Details => _details ?? ResourceDetails.None;

    private ResourceDetails? _details;

    private sealed record ResourceDetails
    {
        public static readonly ResourceDetails None = new();

        public ReplaceOrder? ReplaceOrder { get; init; }

        public string? PreviousAddress { get; init; }

        public ImportingInfo? Importing { get; init; }

        public string? Deposed { get; init; }

        public IReadOnlyList<string> ReplacePaths { get; init; } = [];

        public string? ActionReason { get; init; }

        public bool TagOnly { get; init; }

        public IReadOnlyList<string> ChangedPaths { get; init; } = [];
    }
}

/// <summary>A change made outside the tool that the plan detected (Terraform resource_drift, Pulumi refresh).</summary>
public sealed record DriftEntry(string Address, string Type, PlanAction Action, IReadOnlyList<string> ChangedPaths);

/// <summary>A root output change. <see cref="DisplayValue"/> is masked when sensitive or unknown.</summary>
public sealed record OutputChange(string Name, PlanAction Action, bool Sensitive, bool Unknown, string? DisplayValue);

/// <summary>One risk finding: a machine-readable kind, the resource, and a sentence for people.</summary>
public sealed record RiskFinding(string Kind, string Address, string Detail);

/// <summary>Where a plan applies. Any field may be unknown; materiality compares the known ones.</summary>
public sealed record PlanTarget(string? Account, string? Region, string? Environment);

/// <summary>Number of resources per action.</summary>
public sealed record PlanCounts(int Create, int Update, int Replace, int Delete, int Read, int NoOp, int Forget)
{
    /// <summary>Counts the actions of <paramref name="resources"/>.</summary>
    public static PlanCounts Of(IEnumerable<ResourceChange> resources)
    {
        var counts = new int[7];
        foreach (var resource in resources)
        {
            counts[(int)resource.Action]++;
        }

        return new PlanCounts(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6]);
    }

    /// <summary>The count for one action.</summary>
    public int this[PlanAction action] => action switch
    {
        PlanAction.Create => Create,
        PlanAction.Update => Update,
        PlanAction.Replace => Replace,
        PlanAction.Delete => Delete,
        PlanAction.Read => Read,
        PlanAction.NoOp => NoOp,
        PlanAction.Forget => Forget,
        _ => 0,
    };
}

/// <summary>The normalised, engine-independent summary of a plan (DESIGN.md §2).</summary>
public sealed record PlanSummary
{
    /// <summary>"terraform" (also OpenTofu and command engines writing that format) or "pulumi".</summary>
    public required string Engine { get; init; }

    /// <summary>The plan JSON format_version; null for Pulumi event streams.</summary>
    public string? FormatVersion { get; init; }

    /// <summary>terraform_version / Pulumi CLI version when the artifact records it.</summary>
    public string? ToolVersion { get; init; }

    /// <summary>True when the engine reported the plan (or run) as failed.</summary>
    public bool Errored { get; init; }

    /// <summary>Resources in artifact order.</summary>
    public IReadOnlyList<ResourceChange> Resources { get; init; } = [];

    /// <summary>Changes made outside the tool.</summary>
    public IReadOnlyList<DriftEntry> Drift { get; init; } = [];

    /// <summary>Root output changes.</summary>
    public IReadOnlyList<OutputChange> Outputs { get; init; } = [];

    /// <summary>Risk findings.</summary>
    public IReadOnlyList<RiskFinding> Risks { get; init; } = [];

    /// <summary>Target metadata when the caller knows it (stack config); plans do not carry it.</summary>
    public PlanTarget? Target { get; init; }

    /// <summary>sha256 of the artifact bytes as read ("sha256:hex"); null when built in memory.</summary>
    public string? ArtifactDigest { get; init; }

    /// <summary>Counts per action.</summary>
    public PlanCounts Counts => PlanCounts.Of(Resources);

    /// <summary>Like `plan -detailed-exitcode`: any resource action besides no-op, any import or move, or any output change.</summary>
    public bool HasChanges =>
        Resources.Any(r => r.Action != PlanAction.NoOp || r.Importing is not null || r.PreviousAddress is not null)
        || Outputs.Any(o => o.Action != PlanAction.NoOp);
}
