using Airlock.Application.Approvals;
using Airlock.Application.Plans;
using Airlock.Domain.Failures;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Application.Apply;

/// <summary>
/// <c>airlock apply</c>: runs one approved plan through the state machine of DESIGN.md §3 —
/// validation, queue, locks, saved-plan verification or re-plan with a materiality check,
/// apply-time policy, the engine apply (classified retries, graceful cancellation), post-apply
/// verification, evidence and lock release. The invariant: the change applied is provably the
/// change authorised, or nothing happens.
/// </summary>
public sealed class ApplyService(AirlockServices services)
{
    /// <summary>Failure classes after which a stack refuses applies until a fresh plan is approved.</summary>
    public static readonly IReadOnlySet<FailureClass> BlockingClasses = new HashSet<FailureClass>
    {
        FailureClass.PartialMutation,
        FailureClass.StateWriteFailure,
        FailureClass.RunnerFailure,
    };

    /// <summary>How long to wait for locks once the run is at the head of its queue.</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Lease length of held locks (renewed by heartbeat while the run lives).</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a queued run checks whether it is its turn.</summary>
    public TimeSpan QueuePollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Applies <paramref name="request"/>. Refusals, failures and cancellations are outcomes (with exit
    /// codes), not exceptions; only bad input (unknown plan, invalid config) throws <see cref="UserInputException"/>.
    /// </summary>
    public async Task<ApplyOutcome> ApplyAsync(ApplyRequest request, IApplyObserver observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(observer);
        var plan = await services.Store.Plans.GetAsync(request.PlanId, cancellationToken) ?? throw ApprovalService.UnknownPlan(request.PlanId);
        try
        {
            // A process without the plan key cannot read the approved artifact: say so in one line before a run
            // starts, as `airlock plan` does, rather than fail the run as a fault of Airlock while validating.
            services.Store.Plans.EnsureKeyAvailable();
        }
        catch (PlanKeyMissingException e)
        {
            throw new UserInputException(e.Message);
        }

        var metadata = PlanMetadata.FromJson(plan.MetadataJson);
        var source = SourceServices(plan, metadata);
        var stack = source.Workspace.Stack(plan.Stack);
        var environment = source.Workspace.Environment(plan.Environment);
        if (request.RunId is not null)
        {
            // A dispatched run: its worker records the log (ApplyDispatch), with the note of a run that could not start.
            return await new ApplyRun(source, this, request, plan, metadata, stack, environment, observer).ExecuteAsync(cancellationToken);
        }

        // A run started in this process (`airlock apply`, a release's stack step): its log is stored too, so the
        // dashboard's run page and GET /api/runs/{id}/log show it as they show a server worker's. All of it is stored
        // before this returns.
        var started = request with { RunId = AirlockServices.NewId("run") };
        var recorder = new RunLogRecorder(services.Store.RunLogs, services.Time, started.RunId!, observer);
        try
        {
            return await new ApplyRun(source, this, started, plan, metadata, stack, environment, recorder).ExecuteAsync(cancellationToken);
        }
        finally
        {
            await recorder.DisposeAsync();
        }
    }

    // A revert plan was made in a worktree of the earlier commit and is applied there, with that commit's
    // config and scripts; only worktrees Airlock itself prepared under .airlock/reverts/ are accepted.
    private AirlockServices SourceServices(PlanRecord plan, PlanMetadata metadata)
    {
        if (metadata.SourceRoot is not { } root || Path.GetFullPath(root) == Path.GetFullPath(services.Workspace.Root))
        {
            return services;
        }

        var reverts = Path.GetFullPath(services.Workspace.RevertsDirectory) + Path.DirectorySeparatorChar;
        var pulls = Path.GetFullPath(services.Workspace.PullsDirectory) + Path.DirectorySeparatorChar;
        var commits = Path.GetFullPath(services.Workspace.CommitsDirectory) + Path.DirectorySeparatorChar;
        var isPull = metadata.PullRequest is not null && Path.GetFullPath(root).StartsWith(pulls, StringComparison.Ordinal);
        var isCommit = metadata.PullRequest is null && metadata.RevertOf is null && Path.GetFullPath(root).StartsWith(commits, StringComparison.Ordinal);
        if (!isPull && !isCommit && !Path.GetFullPath(root).StartsWith(reverts, StringComparison.Ordinal))
        {
            throw new RefusedException($"plan {plan.PlanId} was made in {root}, which is not a revert, pull-request or commit worktree of this workspace");
        }

        return Directory.Exists(root)
            ? services.ForSourceTree(root)
            : throw new RefusedException(isPull
                ? $"the worktree of plan {plan.PlanId} ({root}) is gone: comment airlock plan on pull request #{metadata.PullRequest} to plan again"
                : isCommit
                    ? $"the worktree of plan {plan.PlanId} ({root}) is gone: plan {plan.Commit[..Math.Min(12, plan.Commit.Length)]} again"
                    : $"the revert worktree of plan {plan.PlanId} ({root}) is gone: prepare the revert again (airlock release revert)");
    }

    /// <summary>
    /// Why <paramref name="plan"/> may not be applied again: an approval covers one apply, so a plan is spent once any
    /// run of it (other than <paramref name="exceptRunId"/>) reached the apply step, whatever that run's outcome; null
    /// while it is unspent. Runs that stopped before applying (refused, locked out, cancelled while queued) do not spend
    /// it, nor does one cancelled during the apply before it changed anything.
    /// </summary>
    public async Task<string?> SpentReasonAsync(PlanRecord plan, string? exceptRunId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var applying = RunState.Applying.WireName();
        foreach (var run in await services.Store.Runs.ListForPlanAsync(plan.PlanId, cancellationToken))
        {
            if (run.Id == exceptRunId)
            {
                continue;
            }

            var state = RunStates.ParseWireName(run.State);
            var spent = state is RunState.Succeeded || state.MayHaveMutated()
                || ((await services.Store.Runs.ReadEventsAsync(run.Id, cancellationToken)).Any(e => e.To == applying)
                    && !await StoppedBeforeChangingAsync(run, state, cancellationToken));
            if (spent)
            {
                return $"plan {plan.PlanId} was already applied by run {run.Id} ({run.State} at {run.UpdatedAt.ToUniversalTime():u}); an approval covers one apply: plan again and get the new plan approved";
            }
        }

        return null;
    }

    // A run cancelled during the apply whose engine stopped gracefully with the state serial unchanged ends without a
    // failure class (with one, partial_mutation, when changes had begun): that apply never happened.
    private async Task<bool> StoppedBeforeChangingAsync(RunRecord run, RunState state, CancellationToken cancellationToken) =>
        state == RunState.Cancelled && (await services.Store.Runs.GetDetailsAsync(run.Id, cancellationToken))?.FailureClass is null;

    /// <summary>
    /// Why <paramref name="plan"/> may not be applied because an earlier run on the same target (stack, environment,
    /// region) ended with an unknown or partial outcome and no fresh plan has been made since; null when not blocked.
    /// A run from before regions were recorded (no region) counts for every region of its stack and environment.
    /// </summary>
    public async Task<string?> BlockedReasonAsync(PlanRecord plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var region = PlanMetadata.FromJson(plan.MetadataJson).Region;
        var runs = await services.Store.Runs.ListAsync(new RunQuery(plan.Stack, plan.Environment, 200), cancellationToken);
        // Every blocking run counts, not only those after the newest success: runs are listed by creation, and a run
        // created earlier may have died holding the stack after a later-created one succeeded.
        foreach (var run in runs.Where(r => r.Region is null || r.Region == region).Take(50))
        {
            var state = RunStates.ParseWireName(run.State);
            if (state is RunState.Succeeded or RunState.Rejected || plan.CreatedAt > run.UpdatedAt)
            {
                continue; // nothing changed, or a fresh plan, made after the failure, sees the real state
            }

            var details = state == RunState.NeedsReconciliation ? null : await services.Store.Runs.GetDetailsAsync(run.Id, cancellationToken);
            var blocking = state == RunState.NeedsReconciliation
                || (details?.FailureClass is { } name && FailureClassNames.TryParse(name, out var cls) && BlockingClasses.Contains(cls));
            if (!blocking)
            {
                continue;
            }

            var what = state == RunState.NeedsReconciliation ? "needs reconciliation" : $"ended with {details!.FailureClass}";
            var target = region is null ? $"{plan.Stack} in {plan.Environment}" : $"{plan.Stack} in {plan.Environment} ({region})";
            return $"{target} is blocked: run {run.Id} {what} at {run.UpdatedAt.ToUniversalTime():u}; make a fresh plan (it reads the real state) and get it approved";
        }

        return null;
    }
}
