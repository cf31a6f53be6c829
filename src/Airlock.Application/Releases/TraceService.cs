using Airlock.Domain.Releases;
using Airlock.Domain.Storage;

namespace Airlock.Application.Releases;

/// <summary>An applied stack at an infrastructure version: where, by which run, in which release.</summary>
public sealed record StackApplyTrace(string ReleaseId, string Environment, string Stack, string? Region, string? RunId, string AppVersion, string InfraVersion);

/// <summary>The answer to "which ran with which, where and when".</summary>
/// <param name="Kind">"app" or "infra".</param>
/// <param name="Version">The version asked about.</param>
/// <param name="Deployments">Application deployments tagged with it, newest first.</param>
/// <param name="StackApplies">Stacks applied by releases of it (infra) or alongside it (app).</param>
public sealed record TraceResult(string Kind, string Version, IReadOnlyList<DeploymentRecord> Deployments, IReadOnlyList<StackApplyTrace> StackApplies);

/// <summary>
/// <c>airlock trace app:VERSION | infra:VERSION</c>: every deployment is recorded as
/// <c>app:&lt;version&gt;-infra:&lt;version&gt;</c>, so one query answers which infrastructure an
/// application version ran on, and which application versions ran on an infrastructure version.
/// </summary>
public sealed class TraceService(AirlockServices services)
{
    /// <summary>How many recent releases are searched for stack applies.</summary>
    public const int ReleaseWindow = 500;

    /// <summary>Answers <paramref name="query"/> ("app:v1.4.2" or "infra:v0.9.1" / a commit prefix).</summary>
    public async Task<TraceResult> TraceAsync(string query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var colon = query.IndexOf(':', StringComparison.Ordinal);
        var kind = colon > 0 ? query[..colon] : "";
        var version = colon > 0 ? query[(colon + 1)..].Trim() : "";
        if (kind is not ("app" or "infra") || version.Length == 0)
        {
            throw new UserInputException($"trace takes app:VERSION or infra:VERSION (a tag or commit), not '{query}'");
        }

        var deployments = await services.Store.Deployments.ListAsync(
            kind == "app" ? new DeploymentQuery(AppVersion: version) : new DeploymentQuery(InfraVersion: version),
            cancellationToken);
        var applies = new List<StackApplyTrace>();
        foreach (var record in await services.Store.Releases.ListAsync(ReleaseWindow, cancellationToken))
        {
            var progress = ReleaseProgress.FromJson(record.DetailJson);
            var matches = kind == "app"
                ? progress.Version == version
                : progress.InfraVersion == version || (version.Length >= 7 && progress.Commit.StartsWith(version, StringComparison.OrdinalIgnoreCase));
            if (!matches)
            {
                continue;
            }

            applies.AddRange(progress.Environments.SelectMany(e => e.Targets
                .Where(t => t.Status == TargetStatus.Applied)
                .Select(t => new StackApplyTrace(record.Id, e.Name, t.Stack, t.Region, t.RunId, progress.Version, progress.InfraVersion))));
        }

        return new TraceResult(kind, version, deployments, applies);
    }
}
