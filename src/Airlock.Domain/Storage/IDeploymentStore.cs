namespace Airlock.Domain.Storage;

/// <summary>One application deployment to one environment (and region), for traceability: app version × infra version.</summary>
/// <param name="Id">Store-assigned.</param>
/// <param name="ReleaseId">The release that deployed it.</param>
/// <param name="Application">The application name.</param>
/// <param name="Environment">Target environment.</param>
/// <param name="Region">Target region, or null when the environment has no regional waves.</param>
/// <param name="AppVersion">The application version (the artifact promoted everywhere).</param>
/// <param name="InfraVersion">The commit or tag of the stacks applied.</param>
/// <param name="Commit">The full commit sha of the stacks applied.</param>
/// <param name="Strategy">"direct", "blue-green" or "canary".</param>
/// <param name="Color">The colour deployed to (blue-green), else null.</param>
/// <param name="Outcome">One of <see cref="DeploymentOutcomes"/>.</param>
/// <param name="StartedAt">When the deployment started.</param>
/// <param name="FinishedAt">When it reached its outcome; null while deploying.</param>
/// <param name="DetailJson">Anything else as a JSON object (health checks, canary steps...).</param>
public sealed record DeploymentRecord(long Id, string ReleaseId, string Application, string Environment, string? Region,
    string AppVersion, string InfraVersion, string Commit, string Strategy, string? Color, string Outcome,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string DetailJson)
{
    /// <summary>The traceability label, <c>app:&lt;version&gt;-infra:&lt;version&gt;</c>.</summary>
    public string Label => $"app:{AppVersion}-infra:{InfraVersion}";
}

/// <summary>Wire names of a deployment's outcome.</summary>
public static class DeploymentOutcomes
{
    /// <summary>Started, not finished.</summary>
    public const string Deploying = "deploying";

    /// <summary>Serving traffic; at most one per (application, environment, region).</summary>
    public const string Live = "live";

    /// <summary>Health checks failed and the previous version was restored.</summary>
    public const string RolledBack = "rolled_back";

    /// <summary>Failed without a rollback (nothing was switched).</summary>
    public const string Failed = "failed";

    /// <summary>Was live until a newer deployment of the same target went live.</summary>
    public const string Superseded = "superseded";

    /// <summary>Every outcome, in lifecycle order.</summary>
    public static IReadOnlyList<string> All { get; } = [Deploying, Live, RolledBack, Failed, Superseded];

    /// <summary>True for a known wire name.</summary>
    public static bool IsKnown(string? outcome) => outcome is not null && All.Contains(outcome, StringComparer.Ordinal);
}

/// <summary>Which deployments to list, newest first. Null filters match everything.</summary>
/// <param name="Application">Only this application.</param>
/// <param name="AppVersion">Only this application version (exact).</param>
/// <param name="InfraVersion">Only this infra version: exact, or (7 characters or more) a prefix of the commit sha.</param>
/// <param name="Environment">Only this environment.</param>
/// <param name="Region">Only this region.</param>
/// <param name="ReleaseId">Only this release.</param>
/// <param name="Limit">At most this many.</param>
public sealed record DeploymentQuery(string? Application = null, string? AppVersion = null, string? InfraVersion = null,
    string? Environment = null, string? Region = null, string? ReleaseId = null, int Limit = 200);

/// <summary>Application deployments: which app version ran with which infra version, where and when.</summary>
public interface IDeploymentStore
{
    /// <summary>Records a deployment as started (its <see cref="DeploymentRecord.Id"/> is ignored); returns the new id.</summary>
    Task<long> StartAsync(DeploymentRecord deployment, CancellationToken ct);

    /// <summary>
    /// Sets the outcome, the colour that ended up serving (null keeps the one it started with), finish time and detail. Marking one <see cref="DeploymentOutcomes.Live"/> makes the
    /// previously live deployment of the same (application, environment, region) <see cref="DeploymentOutcomes.Superseded"/>
    /// in the same transaction. Throws <see cref="InvalidOperationException"/> for an unknown id.
    /// </summary>
    Task FinishAsync(long id, string outcome, string? color, DateTimeOffset at, string detailJson, CancellationToken ct);

    /// <summary>The live deployment of <paramref name="application"/> in the environment/region (null region = no region), or null.</summary>
    Task<DeploymentRecord?> LiveAsync(string application, string environment, string? region, CancellationToken ct);

    /// <summary>Deployments matching <paramref name="query"/>, newest first (by start, then id).</summary>
    Task<IReadOnlyList<DeploymentRecord>> ListAsync(DeploymentQuery query, CancellationToken ct);
}
