using System.Collections.Concurrent;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Apply;
using Airlock.Application.Approvals;
using Airlock.Application.Delivery;
using Airlock.Application.Plans;
using Airlock.Application.Releases;
using Airlock.Domain.Delivery;
using Airlock.Domain.Evidence;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Storage;
using Airlock.Store.Keys;

using RunEvent = Airlock.Domain.Storage.RunEvent;

namespace Airlock.Dashboard.Views;

/// <summary>A lock as the dashboard shows it.</summary>
public sealed record LockRow(LockLease Lease, TimeSpan Age, TimeSpan ExpiresIn, bool Expired);

/// <summary>The overview page.</summary>
public sealed record OverviewModel(IReadOnlyList<QueueView> Queues, IReadOnlyList<LockRow> Locks, IReadOnlyList<RunRecord> Runs, DeliveryReport Delivery, DateTimeOffset Now);

/// <summary>The queue page.</summary>
public sealed record QueueModel(IReadOnlyList<QueueView> Queues, DateTimeOffset Now);

/// <summary>One run with its timeline.</summary>
public sealed record RunModel(RunRecord Run, RunDetails? Details, IReadOnlyList<RunEvent> Events, PlanRecord? Plan);

/// <summary>One resource change of a plan summary.</summary>
public sealed record ResourceRow(string Address, string Type, string Action, bool TagOnly);

/// <summary>One risk finding of a plan summary.</summary>
public sealed record RiskRow(string Kind, string Address, string? Detail);

/// <summary>One policy rule result.</summary>
public sealed record RuleRow(string Id, string Result, string? Message);

/// <summary>The plan page: summary grouped by action with risks first, policy, approvals, and what the viewer may do.</summary>
/// <param name="Approvals">Plan, metadata, decisions and verdict.</param>
/// <param name="Risks">Risk findings.</param>
/// <param name="Groups">Resources grouped by action, most dangerous first.</param>
/// <param name="PolicyDecision">allow / deny.</param>
/// <param name="Rules">Plan-time policy rules.</param>
/// <param name="ApproveBlockedReason">Null when the viewer may approve; else the one-line reason.</param>
/// <param name="RejectBlockedReason">Null when the viewer may reject; else the one-line reason.</param>
/// <param name="Runs">Applies of this plan, newest first (an approved plan is applied at most once; refused tries stay listed).</param>
public sealed record PlanModel(PlanApprovals Approvals, IReadOnlyList<RiskRow> Risks, IReadOnlyList<IGrouping<string, ResourceRow>> Groups, string PolicyDecision,
    IReadOnlyList<RuleRow> Rules, string? ApproveBlockedReason, string? RejectBlockedReason, IReadOnlyList<RunRecord> Runs);

/// <summary>
/// One plan in the plans list: where it stands for approval and apply, and whether the viewer may approve it now.
/// </summary>
/// <param name="Plan">The stored plan.</param>
/// <param name="Requester">Who planned it.</param>
/// <param name="Counts">Its action counts, without zeros.</param>
/// <param name="Status"><c>awaiting_approval</c>, <c>approved</c>, <c>applied</c>, <c>rejected</c>, <c>superseded</c>, <c>expired</c>, <c>policy_denied</c> or <c>unknown_target</c>.</param>
/// <param name="Detail">One line: what it still needs, who rejected it, what superseded it.</param>
/// <param name="ViewerMayApprove">True when the viewer's approval would be accepted now (and they have not given it).</param>
public sealed record PlanRow(PlanRecord Plan, string Requester, IReadOnlyList<(string Name, int Count)> Counts, string Status, string Detail, bool ViewerMayApprove)
{
    /// <summary>For an applied plan, its newest run (the one that applied it, or a later refused try).</summary>
    public RunRecord? LatestRun { get; init; }
}

/// <summary>The plans page.</summary>
public sealed record PlansModel(IReadOnlyList<PlanRow> Plans, string? Stack, string? Environment, bool AwaitingOnly);

/// <summary>The evidence page: the newest records and the verification of the whole chain.</summary>
public sealed record EvidenceModel(IReadOnlyList<ChainRecord> Records, long Total, ChainVerificationResult Verification, DateTimeOffset VerifiedAt);

/// <summary>The delivery metrics page.</summary>
public sealed record DeliveryModel(DeliveryReport Report, string? Environment, int Days, IReadOnlyList<string> Environments);

/// <summary>
/// Read models of the dashboard pages, over the same application services and store the CLI and API use.
/// Nothing here writes.
/// </summary>
public sealed class DashboardReads(AirlockServices services)
{
    /// <summary>How many runs list pages show.</summary>
    public const int RunPageSize = 100;

    /// <summary>How many evidence records the evidence page shows.</summary>
    public const int EvidencePageSize = 50;

    // Most dangerous actions first, so a reviewer reads deletions before creations.
    private static readonly string[] ActionOrder = ["delete", "replace", "update", "create", "read", "forget", "no-op"];

    // Delivery metrics scan up to a month of runs, and the overview shows them on every view: one report per window
    // is shared for a few seconds, so a busy dashboard costs the store one scan per interval, not one per page view.
    private static readonly TimeSpan DeliveryReportReuse = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<(string? Environment, int Days), (DateTimeOffset At, Task<DeliveryReport> Report)> deliveryReports = new();

    // Verifying the chain reads and checks every record (~150k records/s): one verification serves the evidence page
    // for a few seconds, and the page says when it was made. `airlock evidence verify` always checks afresh.
    private static readonly TimeSpan VerificationReuse = TimeSpan.FromSeconds(15);
    private readonly Lock verificationLock = new();
    private (DateTimeOffset At, Task<ChainVerificationResult> Result)? verification;

    /// <summary>The clock.</summary>
    public DateTimeOffset Now => services.Time.GetUtcNow();

    /// <summary>The overview.</summary>
    public async Task<OverviewModel> OverviewAsync(CancellationToken cancellationToken)
    {
        var queues = await QueuesAsync(cancellationToken);
        var locks = await LocksAsync(cancellationToken);
        var runs = await services.Store.Runs.ListAsync(new RunQuery(Limit: 10), cancellationToken);
        var delivery = await DeliveryReportAsync(null, 30).WaitAsync(cancellationToken);
        return new OverviewModel(queues.Queues, locks, runs, delivery, Now);
    }

    /// <summary>Every queue with current, waiting (position, age, blocked reason) and abandoned items.</summary>
    public async Task<QueueModel> QueuesAsync(CancellationToken cancellationToken)
    {
        var items = await services.Store.Queues.ListActiveAsync(cancellationToken);
        var locks = await services.Store.Locks.ListAsync(cancellationToken);
        var now = Now;
        return new QueueModel(QueueBoard.Build(items, QueueDefinitions.From(services.Workspace.Config), locks, now), now);
    }

    /// <summary>Every lock row with its holder, age and expiry.</summary>
    public async Task<IReadOnlyList<LockRow>> LocksAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        return [.. (await services.Store.Locks.ListAsync(cancellationToken))
            .Select(l => new LockRow(l, now - l.Holder.Since, l.Holder.Expires - now, l.IsExpiredAt(now)))];
    }

    /// <summary>Runs, newest first.</summary>
    public Task<IReadOnlyList<RunRecord>> RunsAsync(string? stack, string? environment, CancellationToken cancellationToken) =>
        services.Store.Runs.ListAsync(new RunQuery(Empty(stack), Empty(environment), RunPageSize), cancellationToken);

    /// <summary>One run, or null.</summary>
    public async Task<RunModel?> RunAsync(string runId, CancellationToken cancellationToken)
    {
        if (await services.Store.Runs.GetAsync(runId, cancellationToken) is not { } run)
        {
            return null;
        }

        var details = await services.Store.Runs.GetDetailsAsync(runId, cancellationToken);
        var events = await services.Store.Runs.ReadEventsAsync(runId, cancellationToken);
        var plan = details is null ? null : await services.Store.Plans.GetAsync(details.PlanId, cancellationToken);
        return new RunModel(run, details, events, plan);
    }

    /// <summary>How many plans the plans page shows.</summary>
    public const int PlanPageSize = 50;

    /// <summary>
    /// Plans, newest first, each with where it stands: what an approver looks for first. The statuses follow the
    /// checks an approval and an apply make (ApprovalService, ApplyService), in the order they refuse.
    /// </summary>
    public async Task<PlansModel> PlansAsync(string? stack, string? environment, bool awaitingOnly, string viewer, CancellationToken cancellationToken)
    {
        stack = Empty(stack);
        environment = Empty(environment);
        var plans = await services.Store.Plans.ListAsync(new PlanQuery(stack, environment, PlanPageSize), cancellationToken);
        var approvals = new ApprovalService(services);
        var applies = new ApplyService(services);
        var now = Now;
        // Newest first: the first plan listed for a target is its latest, the one an approval would accept.
        var latest = new Dictionary<(string, string, string?), string>();
        var rows = new List<PlanRow>();
        foreach (var plan in plans)
        {
            var newer = latest.TryGetValue((plan.Stack, plan.Environment, plan.Region), out var latestId) ? latestId : null;
            latest.TryAdd((plan.Stack, plan.Environment, plan.Region), plan.PlanId);
            rows.Add(await PlanRowAsync(plan, newer, approvals, applies, viewer, now, cancellationToken));
        }

        return new PlansModel([.. rows.Where(r => !awaitingOnly || r.Status == "awaiting_approval")], stack, environment, awaitingOnly);
    }

    private async Task<PlanRow> PlanRowAsync(PlanRecord plan, string? supersededBy, ApprovalService approvals, ApplyService applies, string viewer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        PlanApprovals standing;
        try
        {
            standing = await approvals.ListAsync(plan.PlanId, cancellationToken);
        }
        catch (UserInputException e)
        {
            // The stack or environment left airlock.yaml since: nothing can be decided on it here.
            var stored = PlanMetadata.FromJson(plan.MetadataJson);
            return new PlanRow(plan, stored.Requester, Counts(stored.Summary), "unknown_target", e.Message, false);
        }

        var counts = Counts(standing.Metadata.Summary);
        PlanRow Row(string status, string detail, bool mayApprove = false) => new(plan, standing.Metadata.Requester, counts, status, detail, mayApprove);

        if (await applies.SpentReasonAsync(plan, null, cancellationToken) is not null)
        {
            var runs = await services.Store.Runs.ListForPlanAsync(plan.PlanId, cancellationToken);
            return Row("applied", "by") with { LatestRun = runs.Count > 0 ? runs[0] : null };
        }

        if (standing.Rejection is { } rejection)
        {
            return Row("rejected", rejection.Statement);
        }

        if (now >= plan.ExpiresAt)
        {
            return Row("expired", $"expired at {Format.Time(plan.ExpiresAt)}: plan again");
        }

        if (supersededBy is not null)
        {
            return Row("superseded", $"superseded by {supersededBy}");
        }

        // A plan-time deny cannot be approved, and without approvals to give (dev) it is still not ready to apply.
        if ((string?)standing.Metadata.Policy["decision"] == "deny")
        {
            var failed = (standing.Metadata.Policy["rules"]?.AsArray() ?? [])
                .Where(r => (string?)r?["result"] == "fail").Select(r => $"{(string?)r?["id"]}: {(string?)r?["message"]}");
            return Row("policy_denied", string.Join("; ", failed));
        }

        if (standing.Verdict.Satisfied)
        {
            return Row("approved", "ready to apply");
        }

        var mayApprove = await approvals.WhyNotAsync(plan.PlanId, viewer, cancellationToken) is null
            && !standing.Decisions.Any(d => d.Decision == ApprovalRecord.Approved && string.Equals(d.Approver, viewer, StringComparison.OrdinalIgnoreCase));
        return Row("awaiting_approval", standing.Verdict.Problems.Count > 0 ? string.Join("; ", standing.Verdict.Problems) : "not yet approved", mayApprove);
    }

    /// <summary>One plan as <paramref name="viewer"/> sees it, or null when unknown.</summary>
    public async Task<PlanModel?> PlanAsync(string planId, string viewer, CancellationToken cancellationToken)
    {
        if (await services.Store.Plans.GetAsync(planId, cancellationToken) is null)
        {
            return null;
        }

        var approvals = await new ApprovalService(services).ListAsync(planId, cancellationToken);
        var summary = approvals.Metadata.Summary;
        var risks = (summary["risks"]?.AsArray() ?? [])
            .Select(r => new RiskRow((string?)r?["kind"] ?? "?", (string?)r?["address"] ?? "?", (string?)r?["detail"])).ToList();
        var resources = (summary["resources"]?.AsArray() ?? [])
            .Select(r => new ResourceRow((string?)r?["address"] ?? "?", (string?)r?["type"] ?? "?", (string?)r?["action"] ?? "?", (bool?)r?["tag_only"] ?? false));
        var groups = resources.GroupBy(r => r.Action)
            .OrderBy(g => Array.IndexOf(ActionOrder, g.Key) is var i and >= 0 ? i : ActionOrder.Length).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        var policy = approvals.Metadata.Policy;
        var rules = (policy["rules"]?.AsArray() ?? [])
            .Select(r => new RuleRow((string?)r?["id"] ?? "?", (string?)r?["result"] ?? "?", (string?)r?["message"]))
            .OrderBy(r => r.Result switch { "fail" => 0, "warn" => 1, _ => 2 }).ToList();
        // The same checks ApproveAsync/RejectAsync make, so a button is disabled exactly when the action would be refused.
        var whyNot = await new ApprovalService(services).WhyNotAsync(planId, viewer, cancellationToken);
        var alreadyApproved = approvals.Decisions.Any(d => d.Decision == ApprovalRecord.Approved && string.Equals(d.Approver, viewer, StringComparison.OrdinalIgnoreCase));
        return new PlanModel(approvals, risks, groups, (string?)policy["decision"] ?? "?", rules,
            whyNot ?? (alreadyApproved ? $"you ({viewer}) already approved this plan" : null),
            whyNot,
            await services.Store.Runs.ListForPlanAsync(planId, cancellationToken));
    }

    /// <summary>The newest evidence records and the verification of the whole chain with this installation's keyring.</summary>
    public async Task<EvidenceModel> EvidenceAsync(CancellationToken cancellationToken)
    {
        var (verifiedAt, result) = Verification();
        var verified = await result.WaitAsync(cancellationToken);

        // Sequences have no gaps, so the newest page starts just before the verified head; records appended since are
        // read too, and the queue keeps the last page.
        var newest = new Queue<ChainRecord>();
        await foreach (var record in services.Store.Evidence.ReadAsync(Math.Max(1, verified.LastSequence - EvidencePageSize + 1), cancellationToken))
        {
            newest.Enqueue(record);
            if (newest.Count > EvidencePageSize)
            {
                newest.Dequeue();
            }
        }

        var total = newest.Count == 0 ? verified.LastSequence : Math.Max(verified.LastSequence, newest.Last().Sequence);
        return new EvidenceModel([.. newest.Reverse()], total, verified, verifiedAt);
    }

    private (DateTimeOffset At, Task<ChainVerificationResult> Result) Verification()
    {
        lock (verificationLock)
        {
            var now = Now;
            if (verification is not { } last || now - last.At >= VerificationReuse || last.Result.IsFaulted || last.Result.IsCanceled)
            {
                verification = (now, VerifyAsync());
            }

            return verification.Value;
        }
    }

    private async Task<ChainVerificationResult> VerifyAsync()
    {
        using var keyring = new EvidenceKeyring();
        var keys = new EvidenceKeyStore(Path.Combine(services.Workspace.Root, ".airlock", "keys"));
        if (File.Exists(keys.KeyringPath))
        {
            keyring.AddPem(await File.ReadAllTextAsync(keys.KeyringPath, CancellationToken.None));
        }

        // Not tied to one page view: other views within the reuse interval wait on the same verification.
        return await EvidenceExport.VerifyStoreAsync(services.Store.Evidence, keyring, ChainVerifierOptions.Live, CancellationToken.None);
    }

    /// <summary>Releases, newest first.</summary>
    public Task<IReadOnlyList<ReleaseView>> ReleasesAsync(CancellationToken cancellationToken) =>
        new ReleaseService(services).ListAsync(50, cancellationToken);

    /// <summary>One release, or null.</summary>
    public async Task<ReleaseView?> ReleaseAsync(string releaseId, CancellationToken cancellationToken) =>
        await services.Store.Releases.GetAsync(releaseId, cancellationToken) is null ? null : await new ReleaseService(services).GetAsync(releaseId, cancellationToken);

    /// <summary>Delivery metrics for one environment (or all) over <paramref name="days"/> days.</summary>
    public async Task<DeliveryModel> DeliveryAsync(string? environment, int days, CancellationToken cancellationToken)
    {
        environment = Empty(environment);
        var environments = services.Workspace.Config.Environments.Select(e => e.Name).ToList();
        if (environment is not null && !environments.Contains(environment, StringComparer.Ordinal))
        {
            throw new UserInputException($"unknown environment '{environment}' (known: {string.Join(", ", environments)})");
        }

        return new DeliveryModel(await DeliveryReportAsync(environment, days).WaitAsync(cancellationToken), environment, days, environments);
    }

    private Task<DeliveryReport> DeliveryReportAsync(string? environment, int days)
    {
        if (days is < 1 or > 365)
        {
            return new DeliveryService(services).ReportAsync(environment, days, CancellationToken.None); // refuses; never kept
        }

        var now = Now;
        if (deliveryReports.TryGetValue((environment, days), out var shared) && now - shared.At < DeliveryReportReuse && !shared.Report.IsFaulted && !shared.Report.IsCanceled)
        {
            return shared.Report;
        }

        // Not tied to one request's cancellation: other page views may be waiting for the same report.
        var report = new DeliveryService(services).ReportAsync(environment, days, CancellationToken.None);
        deliveryReports[(environment, days)] = (now, report);
        return report;
    }

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>The action counts of a plan summary, in display order, without zeros.</summary>
    public static IReadOnlyList<(string Name, int Count)> Counts(JsonObject summary) =>
        [.. (summary["counts"] as JsonObject ?? []).Select(kv => (kv.Key, (int?)kv.Value ?? 0)).Where(c => c.Item2 > 0)];
}
