using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

using Airlock.Application.Graph;
using Airlock.Application.Plans;
using Airlock.Domain.Graph;
using Airlock.Domain.Releases;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;

using EvidenceRunEvent = Airlock.Domain.Evidence.RunEvent;

namespace Airlock.Application.Releases;

/// <summary>A new release: which application version, which commit, how far, and whether to wait at gates.</summary>
/// <param name="Version">Application version (also a placeholder in deploy commands, so letters, digits and . _ + - only).</param>
/// <param name="Commit">The commit (default HEAD; it must be checked out).</param>
/// <param name="Base">Compare with this ref to find changed stacks (default: as <c>airlock graph</c>).</param>
/// <param name="All">Run every stack, whatever changed.</param>
/// <param name="Through">Stop after this environment.</param>
/// <param name="Actor">Who starts it.</param>
/// <param name="Wait">Wait at gates (approvals, windows, freezes) instead of pausing and exiting.</param>
/// <param name="SkipCanaryWaitTicket">Emergency: skip canary bakes, recorded in evidence with this ticket.</param>
public sealed record ReleaseRequest(string Version, string? Commit, string? Base, bool All, string? Through, string Actor, bool Wait, string? SkipCanaryWaitTicket = null);

/// <summary>How a release drive ended.</summary>
/// <param name="ReleaseId">The release.</param>
/// <param name="Status">Its status now.</param>
/// <param name="ExitCode">0 succeeded, 1 failed, 4 waiting at a gate (resumable), 130 interrupted (resumable).</param>
/// <param name="Statement">One line.</param>
/// <param name="Progress">Everything done so far.</param>
public sealed record ReleaseOutcome(string ReleaseId, ReleaseStatus Status, int ExitCode, string Statement, ReleaseProgress Progress);

/// <summary>What a host shows while a release runs.</summary>
public interface IReleaseObserver
{
    /// <summary>One step or note, already phrased for people.</summary>
    void Report(string message);

    /// <summary>Where tool and deploy-command output goes (redacted).</summary>
    IOutputSink ToolOutput { get; }
}

/// <summary>One plan of a prepared infrastructure revert.</summary>
public sealed record RevertPlan(string Stack, string? Region, string PlanId, bool HasChanges, string Changes);

/// <summary>A prepared revert: the earlier commit, the worktree it is checked out in, and one plan per stack target the release applied.</summary>
public sealed record RevertOutcome(string ReleaseId, string Environment, string Commit, string Worktree, IReadOnlyList<RevertPlan> Plans);

/// <summary>A stored release with its progress.</summary>
public sealed record ReleaseView(ReleaseRecord Record, ReleaseProgress Progress);

/// <summary>
/// <c>airlock release</c>: takes one commit and one application version through the environments in
/// promotion order (DESIGN.md §5): per environment plan every affected stack, gate on approvals,
/// windows and freezes, apply in DAG order region by region and wave by wave (canary first, then bake),
/// deploy the application built once, then soak under health checks before the next environment.
/// Progress is saved after every step; <see cref="ResumeAsync"/> continues a waiting, interrupted or
/// crashed release without re-applying what was applied.
/// </summary>
public sealed partial class ReleaseService(AirlockServices services)
{
    /// <summary>Exit code of a release paused at a gate.</summary>
    public const int WaitingExitCode = 4;

    /// <summary>How often a waiting release looks at its gate again.</summary>
    public TimeSpan GatePollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Ownership lease of the process driving a release (renewed while it lives).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Starts a release and drives it as far as it can go.</summary>
    public async Task<ReleaseOutcome> StartAsync(ReleaseRequest request, IReleaseObserver observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(observer);
        if (!VersionPattern().IsMatch(request.Version))
        {
            throw new UserInputException($"release version '{request.Version}' may only contain letters, digits and . _ + - (it is passed to deploy commands)");
        }

        if (request.SkipCanaryWaitTicket is { } ticket && string.IsNullOrWhiteSpace(ticket))
        {
            throw new UserInputException("--skip-canary-wait needs --ticket ID: skipping the canary bake is an emergency recorded in evidence");
        }

        var config = services.Workspace.Config;
        if (request.Through is { } through && config.FindEnvironment(through) is null)
        {
            throw new UserInputException($"unknown environment '{through}' (known: {string.Join(", ", config.Environments.Select(e => e.Name))})");
        }

        var commit = await CheckedOutCommitAsync(request.Commit, cancellationToken);
        var stacks = await StacksToRunAsync(commit, request, cancellationToken);
        var infraVersion = await services.Git.TagAtAsync(commit, cancellationToken) ?? commit[..Math.Min(12, commit.Length)];
        var progress = ReleaseLayout.Create(config, new ReleaseSpec(request.Version, commit, infraVersion, request.Actor, request.Through, stacks));
        var now = services.Time.GetUtcNow();
        if (request.SkipCanaryWaitTicket is { } emergency)
        {
            progress.SkipCanaryWait = new EmergencySkip(emergency.Trim(), request.Actor, now);
        }

        progress.Note(now, $"release {request.Version} of {commit[..Math.Min(12, commit.Length)]} (infra {infraVersion}) started by {request.Actor}: "
            + (stacks.Count == 0 ? "no stacks changed" : string.Join(", ", stacks.Select(s => $"{s.Stack} ({s.Reason})"))));
        var id = AirlockServices.NewId("rel");
        var owner = Owner(request.Actor);
        await services.Store.Releases.CreateAsync(
            new ReleaseRecord(id, config.Applications.FirstOrDefault()?.Name ?? config.Project, request.Version, commit, Wire(ReleaseStatus.Running), now, now, progress.ToJson(), owner, now + Lease),
            cancellationToken);
        await RecordAsync(id, "release_started", request.Actor, new Dictionary<string, string>
        {
            ["version"] = request.Version,
            ["commit"] = commit,
            ["infra_version"] = infraVersion,
            ["stacks"] = string.Join(",", stacks.Select(s => s.Stack)),
            ["skip_canary_wait_ticket"] = progress.SkipCanaryWait?.Ticket ?? "",
        }, cancellationToken);
        observer.Report($"release {id}: {request.Version} (app) on infra {infraVersion}, environments {string.Join(" → ", progress.Environments.Select(e => e.Name))}");
        using var run = new ReleaseRun(services, this, id, owner, progress, request.Actor, request.Wait, observer);
        return await run.ExecuteAsync(cancellationToken);
    }

    /// <summary>Continues a waiting, interrupted or crashed release from its last completed step.</summary>
    public async Task<ReleaseOutcome> ResumeAsync(string releaseId, string actor, bool wait, IReleaseObserver observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var record = await services.Store.Releases.GetAsync(releaseId, cancellationToken) ?? throw UnknownRelease(releaseId);
        var status = ParseStatus(record.State);
        if (status is ReleaseStatus.Succeeded or ReleaseStatus.Failed)
        {
            throw new RefusedException($"release {releaseId} already {Wire(status)}; a release that ended is not resumed (start a new one)");
        }

        var owner = Owner(actor);
        var now = services.Time.GetUtcNow();
        var taken = await services.Store.Releases.TryTakeAsync(releaseId, owner, now, Lease, cancellationToken);
        if (taken is null && record.Owner is { } holder && OwnerIsDeadHere(holder))
        {
            // The previous driver ran on this machine and its process is gone (kill -9, crash): no need to wait out its lease.
            taken = await services.Store.Releases.TakeOverAsync(releaseId, holder, owner, now, Lease, cancellationToken);
        }

        if (taken is null)
        {
            var current = await services.Store.Releases.GetAsync(releaseId, cancellationToken);
            throw new RefusedException($"release {releaseId} is being driven by {current?.Owner ?? "another process"} (lease until {Instant(current?.LeaseExpires)}); it can be resumed once that process stops or its lease lapses");
        }

        var progress = ReleaseProgress.FromJson(taken.DetailJson);
        _ = await CheckedOutCommitAsync(progress.Commit, cancellationToken);
        progress.Note(now, $"resumed by {actor}");
        await RecordAsync(releaseId, "release_resumed", actor, new Dictionary<string, string> { ["previous_owner"] = record.Owner ?? "" }, cancellationToken);
        observer.Report($"release {releaseId}: resuming {progress.Version} at {progress.Current?.Name ?? "the end"}");
        using var run = new ReleaseRun(services, this, releaseId, owner, progress, actor, wait, observer);
        return await run.ExecuteAsync(cancellationToken);
    }

    /// <summary>
    /// Prepares the infrastructure revert of what <paramref name="releaseId"/> applied in <paramref name="environment"/>:
    /// the earlier commit's configuration (<paramref name="toCommit"/>, else the commit of the newest earlier release that
    /// passed the environment, else the release commit's parent) is checked out in a worktree under .airlock/reverts/,
    /// and every stack target the release applied there is planned from it. Nothing is applied: the plans need
    /// approval like any other and are applied with <c>airlock apply</c> (which works in that worktree).
    /// </summary>
    public async Task<RevertOutcome> PrepareRevertAsync(string releaseId, string environment, string? toCommit, string actor, IOutputSink sink, CancellationToken cancellationToken)
    {
        var (record, progress) = await GetAsync(releaseId, cancellationToken);
        var env = progress.Environments.FirstOrDefault(e => e.Name == environment)
            ?? throw new UserInputException($"release {releaseId} does not reach environment '{environment}' (it goes to {string.Join(", ", progress.Environments.Select(e => e.Name))})");
        var applied = env.Targets.Where(t => t.Status == TargetStatus.Applied).ToList();
        if (applied.Count == 0)
        {
            throw new UserInputException($"release {releaseId} applied no stacks in {environment}: there is no infrastructure to revert");
        }

        var commit = toCommit is not null
            ? await services.Git.ResolveAsync(toCommit, cancellationToken) ?? throw new UserInputException($"unknown commit '{toCommit}'")
            : await PreviousCommitAsync(record, progress, environment, cancellationToken);
        if (commit == progress.Commit)
        {
            throw new UserInputException($"{commit[..12]} is the release's own commit: name an earlier one with --to");
        }

        var worktree = Path.Combine(services.Workspace.RevertsDirectory, $"{releaseId}-{environment}-{commit[..12]}");
        await services.Git.AddWorktreeAsync(worktree, commit, cancellationToken);
        var source = services.ForSourceTree(worktree);
        var graph = StackGraph.From(source.Workspace.Config, environment);
        var plans = new List<RevertPlan>();
        foreach (var target in applied.OrderBy(t => graph.Position(t.Stack)).ThenBy(t => t.Region, StringComparer.Ordinal))
        {
            if (source.Workspace.Config.FindStack(target.Stack) is null)
            {
                throw new UserInputException($"stack '{target.Stack}' does not exist at {commit[..12]}: reverting it means destroying it, which a revert plan does not do; plan its removal explicitly");
            }

            var outcome = await new PlanService(source).PlanAsync(new PlanRequest(target.Stack, environment, actor, target.Region, RevertOf: releaseId), sink, cancellationToken);
            var counts = outcome.Summary.Counts;
            plans.Add(new RevertPlan(target.Stack, target.Region, outcome.Record.PlanId, outcome.Summary.HasChanges, $"+{counts.Create} ~{counts.Update} ±{counts.Replace} -{counts.Delete}"));
        }

        await RecordAsync(releaseId, "release_revert_prepared", actor, new Dictionary<string, string>
        {
            ["environment"] = environment,
            ["commit"] = commit,
            ["plans"] = string.Join(",", plans.Select(p => p.PlanId)),
        }, cancellationToken);
        return new RevertOutcome(releaseId, environment, commit, worktree, plans);
    }

    private async Task<string> PreviousCommitAsync(ReleaseRecord release, ReleaseProgress progress, string environment, CancellationToken cancellationToken)
    {
        foreach (var earlier in await services.Store.Releases.ListAsync(200, cancellationToken))
        {
            if (earlier.CreatedAt >= release.CreatedAt || earlier.Id == release.Id)
            {
                continue;
            }

            var other = ReleaseProgress.FromJson(earlier.DetailJson);
            if (other.Commit != progress.Commit && other.Environments.Any(e => e.Name == environment && e.Status == StageStatus.Succeeded))
            {
                return other.Commit;
            }
        }

        return await services.Git.ResolveAsync(progress.Commit + "^1", cancellationToken)
            ?? throw new UserInputException($"no earlier release passed {environment} and {progress.Commit[..12]} has no parent: name the commit to revert to with --to");
    }

    /// <summary>One release with its progress.</summary>
    public async Task<ReleaseView> GetAsync(string releaseId, CancellationToken cancellationToken)
    {
        var record = await services.Store.Releases.GetAsync(releaseId, cancellationToken) ?? throw UnknownRelease(releaseId);
        return new ReleaseView(record, ReleaseProgress.FromJson(record.DetailJson));
    }

    /// <summary>Newest releases first.</summary>
    public async Task<IReadOnlyList<ReleaseView>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var records = await services.Store.Releases.ListAsync(limit, cancellationToken);
        return [.. records.Select(r => new ReleaseView(r, ReleaseProgress.FromJson(r.DetailJson)))];
    }

    /// <summary>The wire name of a status.</summary>
    public static string Wire(ReleaseStatus status) => status switch
    {
        ReleaseStatus.Running => "running",
        ReleaseStatus.Waiting => "waiting",
        ReleaseStatus.Interrupted => "interrupted",
        ReleaseStatus.Succeeded => "succeeded",
        _ => "failed",
    };

    /// <summary>Parses a stored status.</summary>
    public static ReleaseStatus ParseStatus(string wire) => wire switch
    {
        "running" => ReleaseStatus.Running,
        "waiting" => ReleaseStatus.Waiting,
        "interrupted" => ReleaseStatus.Interrupted,
        "succeeded" => ReleaseStatus.Succeeded,
        _ => ReleaseStatus.Failed,
    };

    internal async Task RecordAsync(string releaseId, string type, string actor, IReadOnlyDictionary<string, string> detail, CancellationToken cancellationToken)
    {
        await services.Evidence.RecordEventAsync(new EvidenceRunEvent(releaseId, type, "*", "*", actor, services.Time.GetUtcNow(), detail), cancellationToken);
    }

    internal static string Instant(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    private static UserInputException UnknownRelease(string id) => new($"unknown release '{id}' (airlock releases lists them)");

    private static string Owner(string actor) => $"{actor}@{Environment.MachineName} pid {Environment.ProcessId}";

    private static bool OwnerIsDeadHere(string owner)
    {
        var match = OwnerPattern().Match(owner);
        if (!match.Success || match.Groups["host"].Value != Environment.MachineName)
        {
            return false;
        }

        var pid = int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture);
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }

    // Plans and applies work on the checked-out tree, so the release commit must be HEAD.
    private async Task<string> CheckedOutCommitAsync(string? commit, CancellationToken cancellationToken)
    {
        var snapshot = await services.Git.SnapshotAsync(cancellationToken);
        if (commit is null)
        {
            return snapshot.Commit;
        }

        var resolved = await services.Git.ResolveAsync(commit, cancellationToken) ?? throw new UserInputException($"unknown commit '{commit}'");
        return resolved == snapshot.Commit
            ? resolved
            : throw new RefusedException($"the release is of {resolved[..12]} but {snapshot.Commit[..12]} is checked out: check out {resolved[..12]} first (plans bind to the checked-out commit)");
    }

    private async Task<IReadOnlyList<StackReason>> StacksToRunAsync(string commit, ReleaseRequest request, CancellationToken cancellationToken)
    {
        var config = services.Workspace.Config;
        var graph = StackGraph.From(config, null);
        if (request.All)
        {
            return [.. graph.Stacks.Select(s => new StackReason(s, "all"))];
        }

        var changes = await CommitChanges.FindAsync(services.Workspace.Root, commit, request.Base, cancellationToken);
        var changed = ChangedStackDetector.Detect(changes.RepositoryRoot, services.Workspace.Root, config, changes.Files).ToDictionary(c => c.Stack, StringComparer.Ordinal);
        return [.. graph.Affected(changed.Keys).Select(a => new StackReason(
            a.Stack,
            a.Changed && changed.TryGetValue(a.Stack, out var change) ? change.Reason : $"depends on {string.Join(", ", a.ChangedUpstream)}"))];
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex("@(?<host>[^@ ]+) pid (?<pid>[0-9]+)$")]
    private static partial Regex OwnerPattern();
}
