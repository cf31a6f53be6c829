using System.Globalization;
using System.Text.Json.Nodes;
using Airlock.Application.Approvals;
using Airlock.Application.Engines;
using Airlock.Application.Identity;
using Airlock.Application.Plans;
using Airlock.Application.Verification;
using Airlock.Application.Workspace;
using Airlock.Domain.Approvals;
using Airlock.Domain.Config;
using Airlock.Domain.Evidence;
using Airlock.Domain.Failures;
using Airlock.Domain.Locks;
using Airlock.Domain.Plans;
using Airlock.Domain.Policy;
using Airlock.Domain.Queues;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Engines;
using Airlock.Engines.Retry;
using Airlock.Store.Locks;
using Airlock.Store.Queues;
using EvidenceRunEvent = Airlock.Domain.Evidence.RunEvent;
using FailureRetryPolicy = Airlock.Domain.Failures.RetryPolicy;

namespace Airlock.Application.Apply;

/// <summary>
/// One apply attempt, from Requested to a final state. Every transition goes through
/// <see cref="RunLifecycle"/>, is stored as a run event and chained into the evidence log. Whatever
/// happens, locks are released, the queue item is completed and an evidence packet is written.
/// </summary>
internal sealed class ApplyRun(
    AirlockServices services,
    ApplyService settings,
    ApplyRequest request,
    PlanRecord plan,
    PlanMetadata metadata,
    StackConfig stack,
    EnvironmentConfig environment,
    IApplyObserver observer)
{
    private const string System = "airlock";

    private readonly string runId = request.RunId ?? AirlockServices.NewId("run");
    private readonly string workDirectory = Path.Combine(services.Workspace.StateDirectory, "work", "run-" + Guid.NewGuid().ToString("N")[..10]);
    private RunLifecycle lifecycle = null!;
    private DateTimeOffset startedAt;
    private IReadOnlyList<Approval> approvals = [];
    private ApprovalVerdict? verdict;
    private BreakGlass? breakGlass;
    private PolicyResult? policy;
    private PlanSummary? approvedSummary;
    private PlanSummary? appliedSummary;
    private string appliedDigest = plan.PlanDigest;
    private PlanArtifact? artifact;
    private IEngine? engine;
    private QueueDefinition? queue;
    private QueueItem? queueItem;
    private QueueClaimKeeper? claimKeeper;

    // The plan expired while queued and the queue re-plans stale plans: planned again even where plans are saved.
    private bool staleReplan;
    private DateTimeOffset? replannedAt;
    private LockSetHandle? locks;
    private long? serialBefore;
    private string? lineageBefore;
    private long? serialAfter;
    private string? toolVersion;
    private ResolvedIdentity? identity;
    private ResolvedInputs inputs = ResolvedInputs.None;
    private int attempt = 1;
    private IReadOnlyList<CheckOutcome> verification = [];
    private RunCancelRequest? cancelRequest;

    private static readonly TimeSpan CancelPollInterval = TimeSpan.FromMilliseconds(500);

    public async Task<ApplyOutcome> ExecuteAsync(CancellationToken hostCancellation)
    {
        // Ctrl+C in this process, or an `airlock cancel` recorded in the store by anyone allowed to.
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(hostCancellation);
        using var stopWatching = new CancellationTokenSource();
        var cancellationToken = cancellation.Token;
        startedAt = services.Time.GetUtcNow();
        lifecycle = new RunLifecycle(runId, 1, services.Time);
        await services.Store.Runs.CreateAsync(runId, stack.Name, environment.Name, metadata.Region, RunState.Requested.WireName(), request.Actor, CancellationToken.None);
        await SaveDetailsAsync(null, null, null);
        await ChainEventAsync(RunState.Requested, request.Actor, $"apply of {plan.PlanId} requested");
        var watcher = WatchForCancelRequestAsync(cancellation, stopWatching.Token);
        ApplyOutcome outcome;
        try
        {
            outcome = await RunStagesAsync(cancellationToken);
        }
        catch (RefusedException refused)
        {
            outcome = await EndAsync(RunState.Rejected, ExitCodes.Refused, refused.Message, null, null);
        }
        catch (LockUnavailableException e)
        {
            var holder = e.Holder is { } h ? $" (held by run {h.Holder.RunId}, {h.Holder.Actor}: {h.Holder.Reason})" : string.Empty;
            outcome = await EndAsync(RunState.Failed, ExitCodes.Failed, $"could not take lock {e.Key} within {Durations.Format(settings.LockWait)}{holder}; nothing was changed; locks are never force-released automatically", FailureClass.LockUnavailable, "lock-unavailable");
        }
        catch (PreparationFailedException e)
        {
            outcome = await EndAsync(RunState.Failed, ExitCodes.Failed, e.Verdict.Statement, e.Verdict.Class, e.Verdict.RunbookId);
        }
        catch (RunStateConflictException e)
        {
            // Another process moved this run (its lock lease lapsed and someone else marked it for
            // reconciliation): this process no longer owns the run's state, only its evidence.
            var statement = $"this process lost ownership of the run while {lifecycle.State.WireName()} ({e.Message}); its lock lease lapsed: reconcile before anything else";
            var sequence = await WritePacketAsync("failed", statement, FailureClass.RunnerFailure, "runner-failure");
            await SaveDetailsAsync(FailureClass.RunnerFailure, statement, sequence, "runner-failure");
            outcome = Outcome(RunState.NeedsReconciliation, ExitCodes.Failed, statement, FailureClass.RunnerFailure, "runner-failure", sequence);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            var statement = lifecycle.State.MayHaveMutated()
                ? $"cancelled by {CancelledBy} while {lifecycle.State.WireName()}, after the apply ran (state serial {Serial(serialBefore)} → {Serial(serialAfter)}): check the target by hand"
                : $"cancelled by {CancelledBy} while {lifecycle.State.WireName()}; nothing was changed";
            outcome = await EndAsync(RunState.Cancelled, ExitCodes.Cancelled, statement, null, null);
        }
        catch (Exception e) when (e is not OperationCanceledException && lifecycle.State.IsFinal())
        {
            // The run already reached its final state (stored and chained); only bookkeeping after it failed.
            var statement = $"the run ended {lifecycle.State.WireName()}, but airlock failed afterwards ({e.GetType().Name}: {e.Message})";
            observer.Note(statement);
            outcome = new ApplyOutcome(runId, lifecycle.State, lifecycle.State == RunState.Succeeded ? ExitCodes.Ok : ExitCodes.Failed, statement, null, null, null, serialBefore, serialAfter, verification, policy);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A fault of Airlock itself or its store: record what is known rather than leave the run dangling.
            var mutated = lifecycle.State.MayHaveMutated();
            var statement = $"airlock failed while {lifecycle.State.WireName()} ({e.GetType().Name}: {e.Message}){(mutated ? "; the outcome of the apply is unknown: reconcile before anything else" : "; nothing was changed")}";
            try
            {
                outcome = await EndAsync(mutated ? RunState.NeedsReconciliation : RunState.Failed, ExitCodes.Failed, statement, mutated ? FailureClass.RunnerFailure : FailureClass.PreMutation, mutated ? "runner-failure" : null);
            }
            catch (Exception endFault) when (endFault is not OperationCanceledException)
            {
                // Ending the run failed too (the store refused again, or its stored state lags the lifecycle after the
                // refused write): the first fault is the one to tell; ApplyDispatch settles the run as stored.
                throw new AggregateException(statement, e, endFault);
            }
        }
        finally
        {
            await stopWatching.CancelAsync();
            await watcher;
            await ReleaseAsync();
        }

        return outcome;
    }

    private string CancelledBy => cancelRequest is { } r ? $"{r.Actor} ({r.Reason})" : request.Actor;

    private async Task WatchForCancelRequestAsync(CancellationTokenSource cancellation, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CancelPollInterval, services.Time, stop);
                if (await services.Store.Runs.GetCancelRequestAsync(runId, stop) is { } found)
                {
                    cancelRequest = found;
                    observer.Note($"cancel requested by {found.Actor}: {found.Reason}");
                    await cancellation.CancelAsync();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is global::System.Data.Common.DbException or IOException or TimeoutException)
            {
                // A store hiccup must not end the run; the next poll tries again.
            }
        }
    }

    private async Task<ApplyOutcome> RunStagesAsync(CancellationToken cancellationToken)
    {
        await MoveAsync(RunState.Validating, System, "checking commit, approvals, freshness, windows and freezes");
        await ValidateAsync(cancellationToken);

        await MoveAsync(RunState.Queued, System, "waiting for its turn");
        await WaitForTurnAsync(cancellationToken);

        await MoveAsync(RunState.AcquiringLocks, System, "taking locks in the global order");
        await AcquireLocksAsync(cancellationToken);

        // While this run waited, a run on the same target may have died holding the lock (its lapsed lease was taken
        // over just now, or a reconciler marked it): that stack stays blocked until a fresh plan is approved.
        if (await settings.BlockedReasonAsync(plan, cancellationToken) is { } blockedMeanwhile)
        {
            throw new RefusedException(blockedMeanwhile);
        }

        // Two requests for the same plan can both pass validation; under the stack lock only the first gets to apply.
        if (await settings.SpentReasonAsync(plan, runId, cancellationToken) is { } spentMeanwhile)
        {
            throw new RefusedException(spentMeanwhile);
        }

        await MoveAsync(RunState.Preparing, System, $"preparing the {services.Workspace.Config.EffectiveEngine(stack).ToString().ToLowerInvariant()} engine");
        await PrepareAsync(cancellationToken);

        if (environment.Plan.Mode == PlanMode.Saved && !staleReplan)
        {
            await MoveAsync(RunState.VerifyingSavedPlan, System, "checking integrity, expiry, target binding and state serial");
            VerifySavedPlan();
        }
        else
        {
            await MoveAsync(RunState.Planning, System, staleReplan ? "planning again: the approved plan expired while queued" : "planning again to compare with the approved plan");
            await ReplanAsync(cancellationToken);
        }

        await MoveAsync(RunState.PolicyCheck, System, "apply-time policy");
        policy = await EvaluatePolicyAsync(appliedSummary!, cancellationToken);
        RefuseIfDenied(policy, "apply-time policy");

        // Never start the engine on a lease this process may no longer hold: a lapsed lock lease may already be another
        // run's, a lapsed queue claim another item's slot. Once the engine runs it is not stopped for this (a tool
        // killed mid-apply is worse); the run's expected-state transitions then tell whether it still owns the run.
        if (LostLease() is { } lost)
        {
            return await EndAsync(RunState.Failed, ExitCodes.Failed, $"{lost} before the apply started (the store could not be reached to renew it in time, or this process stalled); nothing was changed; locks are never force-released automatically", FailureClass.LockUnavailable, "lock-unavailable");
        }

        await MoveAsync(RunState.Applying, request.Actor, $"applying {appliedDigest}");
        var failure = await ApplyWithRetriesAsync(cancellationToken);
        if (failure is not null)
        {
            return failure;
        }

        await MoveAsync(RunState.Verifying, System, stack.Verify.IsEmpty ? "no verification checks configured" : $"{stack.Verify.Length} check(s)");
        verification = await services.Verification.RunAsync(stack.Verify, VerificationContextFor(), cancellationToken);
        var failed = verification.Where(c => !c.Passed).ToList();
        if (failed.Count > 0)
        {
            var statement = $"applied, but verification failed: {string.Join("; ", failed.Select(c => $"{c.Kind} {c.Target}: {c.Detail}"))}; infrastructure is never rolled back automatically (runbook: verification-failed)";
            return await EndAsync(RunState.Failed, ExitCodes.Failed, statement, FailureClass.VerificationFailed, "verification-failed");
        }

        await MoveAsync(RunState.Publishing, System, "writing evidence and releasing locks");
        var summary = Counts(appliedSummary!);
        return await EndAsync(RunState.Succeeded, ExitCodes.Ok, $"{stack.Name} in {environment.Name}: {summary}; verified ({verification.Count} check(s) passed)", null, null);
    }

    private string? LostLease() =>
        locks?.LeaseLost.IsCancellationRequested == true ? "this run lost its lock lease"
        : claimKeeper?.ClaimLost.IsCancellationRequested == true ? "this run lost its queue claim"
        : null;

    private async Task ValidateAsync(CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow();
        var source = await services.Git.SnapshotAsync(cancellationToken);
        if (source.Commit != plan.Commit)
        {
            throw new RefusedException($"the working copy is at commit {Short(source.Commit)}, but plan {plan.PlanId} was made at {Short(plan.Commit)}: check out that commit or plan again");
        }

        if (source.Dirty && PlanService.NeedsApproval(environment))
        {
            throw new RefusedException("the working tree has uncommitted changes; the approved change is the committed one: commit or stash them");
        }

        if (environment.Plan.RequireBaseCurrent)
        {
            var baseBranch = await services.Git.BaseBranchAsync(cancellationToken)
                ?? throw new RefusedException($"{environment.Name} requires the base branch to be current, but there is no origin/HEAD, main or master to compare with");
            var baseCommit = await services.Git.ResolveAsync(baseBranch, cancellationToken);
            if (baseCommit is null || !await services.Git.IsAncestorAsync(baseCommit, plan.Commit, cancellationToken))
            {
                throw new RefusedException($"{baseBranch} has moved past the planned commit {Short(plan.Commit)} (its tip {Short(baseCommit ?? "?")} is not included): rebase, plan and get approval again");
            }
        }

        // The execution identity must be available here before anything is queued or locked; never bypassed.
        identity = services.Engines.ResolveIdentity(stack, environment);

        await ResolveInputsAsync(cancellationToken);

        if (await settings.BlockedReasonAsync(plan, cancellationToken) is { } blocked)
        {
            throw new RefusedException(blocked);
        }

        if (await settings.SpentReasonAsync(plan, runId, cancellationToken) is { } spent)
        {
            throw new RefusedException(spent);
        }

        if (now >= plan.ExpiresAt)
        {
            throw new RefusedException($"plan {plan.PlanId} expired at {plan.ExpiresAt.ToUniversalTime():u} ({environment.Name} plans live {Durations.Format(environment.Plan.MaxAge)}): plan again");
        }

        // Reading the artifact checks its integrity (AES-GCM + hash) and expiry; the plan JSON inside must still have the approved digest.
        await LoadApprovedPlanAsync(cancellationToken);

        var decisions = await services.Store.Approvals.ListForPlanAsync(plan.PlanId, cancellationToken);
        // A standing rejection blocks this plan whatever else was granted; only a fresh plan starts over.
        if (Rejection.Standing(StoredApproval.Rejections(decisions)) is { } rejection)
        {
            throw new RefusedException($"plan {plan.PlanId} was {rejection.Statement}: plan again");
        }

        approvals = StoredApproval.Approvals(decisions);
        breakGlass = BreakGlassFor(decisions);
        policy = await EvaluatePolicyAsync(approvedSummary!, cancellationToken);
        RefuseIfDenied(policy, "policy");
    }

    // The engine must get exactly the inputs the approved plan was made with: upstream outputs read again now.
    private async Task ResolveInputsAsync(CancellationToken cancellationToken)
    {
        try
        {
            inputs = await services.Inputs.ResolveAsync(stack, environment, metadata.Region, cancellationToken);
        }
        catch (EngineFailedException e)
        {
            throw new RefusedException($"could not read the upstream outputs {stack.Name} takes as inputs ({e.Message}); nothing was changed");
        }

        var current = inputs.IsEmpty ? null : inputs.Digest;
        if (current != metadata.InputsDigest)
        {
            var changed = StackInputs.Changed(metadata.InputDigests, inputs)
                .Select(name => metadata.InputSources?.GetValueOrDefault(name) ?? inputs.Sources.GetValueOrDefault(name) ?? name);
            throw new RefusedException($"upstream outputs changed since the plan ({string.Join(", ", changed)}): plan again");
        }
    }

    private async Task LoadApprovedPlanAsync(CancellationToken cancellationToken)
    {
        byte[] archive;
        try
        {
            archive = await services.Store.Plans.ReadArtifactAsync(plan.PlanId, cancellationToken);
        }
        catch (PlanArtifactException e)
        {
            throw new RefusedException(e.Message);
        }

        var approvedDirectory = Path.Combine(workDirectory, "approved");
        try
        {
            PlanArtifactArchive.Unpack(archive, approvedDirectory);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            throw new RefusedException($"plan {plan.PlanId}: the stored artifact cannot be unpacked ({e.Message}); re-plan");
        }

        var planJson = Path.Combine(approvedDirectory, metadata.PlanJsonFile);
        await using (var stream = File.OpenRead(planJson))
        {
            approvedSummary = PlanReader.Read(stream, services.Workspace.ResourceClasses);
        }

        var digest = PlanSummaryJson.Digest(approvedSummary);
        if (digest != plan.PlanDigest)
        {
            throw new RefusedException($"plan {plan.PlanId}: the stored plan reads as {digest}, not the approved {plan.PlanDigest}; re-plan");
        }

        appliedSummary = approvedSummary;
        artifact = new PlanArtifact(
            approvedDirectory,
            metadata.PlanFile is { } file ? Path.Combine(approvedDirectory, file) : null,
            metadata.HasChanges,
            metadata.DependencyLockDigest,
            metadata.EventLogFile is { } log ? Path.Combine(approvedDirectory, log) : null);
    }

    private BreakGlass? BreakGlassFor(IReadOnlyList<ApprovalRecord> decisions)
    {
        if (request.BreakGlass is not { } use)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(use.IncidentId))
        {
            throw new RefusedException("break-glass needs an incident id (--incident ID): emergency changes are tied to an incident");
        }

        if (string.IsNullOrWhiteSpace(use.Reason))
        {
            throw new RefusedException("break-glass needs a reason (--reason TEXT)");
        }

        var grant = StoredApproval.BreakGlassGrants(decisions)
            .Where(g => string.Equals(g.IncidentId, use.IncidentId.Trim(), StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(g => g.GrantedAt)
            .FirstOrDefault()
            ?? throw new RefusedException($"no break-glass grant for incident {use.IncidentId} on plan {plan.PlanId}: a member of the '{BuiltInRules.BreakGlassTeam}' team runs airlock approve {plan.PlanId} --break-glass --incident {use.IncidentId} --reason TEXT");
        return new BreakGlass(grant.IncidentId, use.Reason.Trim(), grant.Approver, grant.ExpiresAt);
    }

    private async Task<PolicyResult> EvaluatePolicyAsync(PlanSummary summary, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow();
        var binding = new ApprovalService(services).CurrentBinding(plan, metadata, stack, environment);
        verdict = ApprovalGate.Evaluate(
            binding,
            metadata.Requester,
            [.. stack.Owners],
            ApprovalService.Requirement(environment),
            services.Workspace.Teams(),
            approvals,
            BuiltInRules.GuardedDestroys(services.Workspace.Config, environment, summary),
            now);
        var freeze = await services.Store.Freezes.ActiveAsync(environment.Name, cancellationToken);
        // A stale plan planned again is as old as the fresh plan being applied: the plan-age rule judges that one.
        var plannedAt = staleReplan && replannedAt is { } fresh ? fresh : plan.CreatedAt;
        var context = new PolicyContext(PolicyPhase.Apply, services.Workspace.Config, stack, environment, summary, metadata.Requester, plannedAt, now, verdict, breakGlass, freeze?.Reason);
        return services.Policy.Evaluate(context, approvals, cancellationToken);
    }

    private static void RefuseIfDenied(PolicyResult result, string what)
    {
        var failed = result.Rules.Where(r => r.Result == RuleOutcome.Fail).ToList();
        if (failed.Count > 0)
        {
            throw new RefusedException($"{what} denies the apply: {string.Join("; ", failed.Select(r => $"[{r.Id}] {r.Message}"))}");
        }
    }

    private async Task WaitForTurnAsync(CancellationToken cancellationToken)
    {
        var queues = QueueDefinitions.From(services.Workspace.Config);
        queue = QueueMatcher.Match(queues, environment.Name, stack.Name)
            ?? QueueDefinition.ImplicitFor(environment.Name, stack.Name);
        var classes = queue.EffectivePriorityClasses;
        var priority = breakGlass is not null && classes.Contains("emergency") ? "emergency"
            : classes.Contains(QueueDefinition.StandardClass) ? QueueDefinition.StandardClass
            : classes[^1];
        queueItem = await services.Store.Queues.EnqueueAsync(queue, new EnqueueRequest(runId, environment.Name, stack.Name, priority, queue.Key is null ? null : stack.Name, LockKeys()), cancellationToken);
        string? lastNote = null;
        while (true)
        {
            if (await services.Store.Queues.ClaimItemAsync(queue, queueItem.Id, runId, settings.LeaseDuration, cancellationToken) is { } claimed)
            {
                queueItem = claimed;
                // The claim lives as long as this process does; if it dies, the slot frees itself when the lease lapses.
                claimKeeper = QueueClaimKeeper.Start(services.Store.Queues, services.Time, claimed, settings.LeaseDuration);
                break;
            }

            var active = await services.Store.Queues.ListActiveAsync(cancellationToken);
            var ahead = active.Where(i => i.Queue == queue.Name && i.Id != queueItem.Id && (i.State == QueueItemState.Claimed || i.Id < queueItem.Id)).ToList();
            var note = ahead.Count == 0 ? "waiting for a free slot" : $"waiting in queue {queue.Name} behind {string.Join(", ", ahead.Select(i => i.RunId))}";
            if (note != lastNote)
            {
                await NoteAsync(note);
                lastNote = note;
            }

            await Task.Delay(settings.QueuePollInterval, services.Time, cancellationToken);
        }

        if (services.Time.GetUtcNow() >= plan.ExpiresAt)
        {
            var expired = $"plan {plan.PlanId} expired while queued (at {plan.ExpiresAt.ToUniversalTime():u})";
            if (queue.StalePlan != StalePlanPolicy.Replan)
            {
                throw new RefusedException($"{expired}: plan again (queue {queue.Name} fails stale plans)");
            }

            // The queue's stale_plan: replan. The approval still binds: the fresh plan is applied only if it matches
            // the approved one in substance (ReplanAsync), exactly as in an environment that always re-plans.
            staleReplan = true;
            await NoteAsync($"{expired}; queue {queue.Name} re-plans stale plans: the fresh plan must match the approved one in substance");
        }
    }

    private List<LockKey> LockKeys()
    {
        var keys = stack.Locks.Select(name => LockKey.Semantic(name, environment.Name)).ToList();
        keys.Add(LockKey.Stack(services.Workspace.Config.Project, environment.Name, metadata.Account ?? "default", metadata.Region ?? "default", stack.Name));
        return keys;
    }

    private async Task AcquireLocksAsync(CancellationToken cancellationToken)
    {
        var manager = new LockManager(services.Store.Locks, services.Time);
        locks = await manager.AcquireAsync(LockKeys(), new LockRequest(runId, request.Actor, $"apply {plan.PlanId} to {stack.Name}/{environment.Name}{(metadata.Region is { } r ? "/" + r : string.Empty)}", settings.LeaseDuration), settings.LockWait, cancellationToken);
        await NoteAsync("holding " + string.Join(", ", locks.Leases.Select(l => $"{l.Key} (fence {l.FencingToken})")));
    }

    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        engine = services.Engines.Create(
            new EngineTarget(stack, environment, runId, plan.Commit, inputs.Json, identity, metadata.Region, inputs.SensitiveNames),
            observer.ToolOutput);
        try
        {
            await engine.InitAsync(cancellationToken);
            var version = await engine.GetVersionAsync(cancellationToken);
            toolVersion = $"{version.Tool} {version.Version}";
            var state = await engine.GetStateVersionAsync(cancellationToken);
            serialBefore = state.Serial;
            lineageBefore = state.Lineage;
        }
        catch (EngineStepFailedException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PreparationFailedException(FailureClassifier.Classify(e.ToObservation()));
        }
        catch (EngineConfigurationException e)
        {
            throw new PreparationFailedException(FailureClassifier.Classify(new FailureObservation("prepare", RunPhase.BeforeMutation, null, Termination.Exited, e.Message)));
        }
    }

    private void VerifySavedPlan()
    {
        if (services.Time.GetUtcNow() >= plan.ExpiresAt)
        {
            throw new RefusedException($"plan {plan.PlanId} expired at {plan.ExpiresAt.ToUniversalTime():u} before it could be applied: plan again");
        }

        var account = stack.Account ?? environment.Account;
        var regions = AirlockWorkspace.Regions(stack, environment);
        var profile = EngineFactory.IdentityProfile(stack, environment);
        if (account != metadata.Account || !regions.Contains(metadata.Region) || profile != metadata.IdentityProfile || engine!.Kind != metadata.Engine)
        {
            var region = regions.Contains(metadata.Region) ? metadata.Region : string.Join("|", regions.Select(r => r ?? "-"));
            throw new RefusedException($"plan {plan.PlanId} was made for {Describe(metadata.Engine, metadata.Account, metadata.Region, metadata.IdentityProfile)}, but {stack.Name} in {environment.Name} is now {Describe(engine!.Kind, account, region, profile)}: plan again");
        }

        // A serial counts only within one lineage: the same serial in another state (re-created backend, other workspace) is not the planned state.
        if (metadata.StateLineage is { } plannedLineage && lineageBefore != plannedLineage)
        {
            throw new RefusedException($"the state of {stack.Name} in {environment.Name} is a different state since the plan (lineage {plannedLineage} → {lineageBefore ?? "none"}): plan again");
        }

        if (metadata.StateSerial is { } planned && serialBefore != planned)
        {
            throw new RefusedException($"the state of {stack.Name} in {environment.Name} changed since the plan (serial {planned} → {serialBefore?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}): plan again");
        }
    }

    private async Task ReplanAsync(CancellationToken cancellationToken)
    {
        PlanArtifact fresh;
        PlanJson json;
        try
        {
            (fresh, json) = await engine!.ReplanAsync(Path.Combine(workDirectory, "replan"), cancellationToken);
        }
        catch (EngineStepFailedException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PreparationFailedException(FailureClassifier.Classify(e.ToObservation()));
        }

        PlanSummary freshSummary;
        await using (var stream = json.OpenRead())
        {
            freshSummary = PlanReader.Read(stream, services.Workspace.ResourceClasses);
        }

        var comparison = Materiality.Compare(approvedSummary!, freshSummary);
        if (comparison.IsMaterial)
        {
            throw new RefusedException($"the fresh plan differs materially from the approved one: {string.Join("; ", comparison.Reasons.Where(r => r.Material).Select(r => r.Detail))}; plan again and get it approved");
        }

        var minor = comparison.Reasons.Where(r => !r.Material).Select(r => r.Detail).ToList();
        await NoteAsync(minor.Count == 0
            ? "the fresh plan is identical in substance to the approved one"
            : "the fresh plan differs only immaterially: " + string.Join("; ", minor));
        appliedSummary = freshSummary;
        appliedDigest = PlanSummaryJson.Digest(freshSummary);
        artifact = fresh;
        replannedAt = services.Time.GetUtcNow();
    }

    private async Task<ApplyOutcome?> ApplyWithRetriesAsync(CancellationToken cancellationToken)
    {
        var retryPolicy = RetryPolicyOf(environment.Retry);
        var executor = new ClassifiedRetryExecutor(retryPolicy, services.Time, Random.Shared.NextDouble);
        FailureVerdict? cancelVerdict = null;
        RetryExecution<ApplyResult>? execution = null;
        try
        {
            // Polly stops waiting between attempts on cancellation; the engine gets the token and stops gracefully.
            execution = await executor.ExecuteAsync<ApplyResult>(
                async (attempt, token) =>
                {
                    this.attempt = attempt;
                    if (attempt > 1)
                    {
                        await NoteAsync($"attempt {attempt} of the apply");
                    }

                    try
                    {
                        return AttemptOutcome.Success(await engine!.ApplyAsync(artifact!, token));
                    }
                    catch (EngineStepFailedException e) when (e.Process.Termination == Termination.Cancelled || cancellationToken.IsCancellationRequested)
                    {
                        cancelVerdict = await ClassifyAsync(e);
                        return AttemptOutcome.Failed<ApplyResult>(cancelVerdict);
                    }
                    catch (EngineStepFailedException e)
                    {
                        var failureVerdict = await ClassifyAsync(e);
                        await NoteAsync($"attempt {attempt} failed ({failureVerdict.Class.ToWireName()}): {failureVerdict.Statement}");

                        // A retried attempt keeps its own evidence: attempt 2 never overwrites attempt 1.
                        // Whether it is retried does not depend on the jitter, only its delay does.
                        var decision = retryPolicy.Decide(attempt, failureVerdict, () => 0.5);
                        if (decision.Retries && attempt < retryPolicy.MaxAttempts)
                        {
                            await WritePacketAsync("failed", $"attempt {attempt}: {failureVerdict.Statement}; retried: {decision.Reason}", failureVerdict.Class, failureVerdict.RunbookId);
                        }

                        return AttemptOutcome.Failed<ApplyResult>(failureVerdict);
                    }
                },
                cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled between attempts, or while the engine stopped: handled below from what is known.
        }

        serialAfter = await ReadSerialAsync();
        if (cancelVerdict is not null || execution is null)
        {
            var mutated = cancelVerdict?.MutationObserved == true || (serialBefore is { } b && serialAfter is { } a && a != b);
            return mutated
                ? await EndAsync(RunState.Cancelled, ExitCodes.Cancelled, $"cancelled by {CancelledBy} during the apply after changes began: {cancelVerdict?.Statement ?? $"state serial {Serial(serialBefore)} → {Serial(serialAfter)}"}", FailureClass.PartialMutation, cancelVerdict?.RunbookId)
                : await EndAsync(RunState.Cancelled, ExitCodes.Cancelled, $"cancelled by {CancelledBy} during the apply; the engine stopped gracefully and the state serial is unchanged ({Serial(serialBefore)})", null, null);
        }

        if (execution.Final.Failure is { } failure)
        {
            var tries = execution.Attempts.Count > 1 ? $" after {execution.Attempts.Count} attempts" : string.Empty;
            var final = failure.Class is FailureClass.RunnerFailure or FailureClass.StateWriteFailure ? RunState.NeedsReconciliation : RunState.Failed;
            return await EndAsync(final, ExitCodes.Failed, failure.Statement + tries, failure.Class, failure.RunbookId);
        }

        return null;
    }

    private async Task<FailureVerdict> ClassifyAsync(EngineStepFailedException e)
    {
        var after = await ReadSerialAsync();
        return FailureClassifier.Classify(e.ToObservation(serialBefore, after));
    }

    private async Task<long?> ReadSerialAsync()
    {
        try
        {
            return (await engine!.GetStateVersionAsync(CancellationToken.None)).Serial;
        }
        catch (Exception e) when (e is EngineStepFailedException or EngineConfigurationException)
        {
            await NoteAsync("could not read the state serial after the apply: " + e.Message);
            return null;
        }
    }

    private VerificationContext VerificationContextFor()
    {
        var placeholders = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["env"] = environment.Name,
            ["stack"] = stack.Name,
            ["project"] = services.Workspace.Config.Project,
        };
        if (metadata.Account is { } account)
        {
            placeholders["account"] = account;
        }

        if (metadata.Region is { } region)
        {
            placeholders["region"] = region;
        }

        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AIRLOCK_STACK"] = stack.Name,
            ["AIRLOCK_ENVIRONMENT"] = environment.Name,
            ["AIRLOCK_REGION"] = metadata.Region ?? string.Empty,
            ["AIRLOCK_RUN_ID"] = runId,
            ["AIRLOCK_COMMIT"] = plan.Commit,
        };
        return new VerificationContext(
            services.Engines.WorkingDirectory(stack),
            placeholders,
            variables,
            [.. identity?.Variables.Values ?? [], .. inputs.SecretValues],
            async token => (await engine!.CheckDriftAsync(token)).Drifted);
    }

    private async Task MoveAsync(RunState to, string actor, string detail)
    {
        var from = lifecycle.State;
        var transition = lifecycle.MoveTo(to, actor, detail);
        await services.Store.Runs.TransitionAsync(runId, from.WireName(), to.WireName(), actor, detail, CancellationToken.None);
        await ChainEventAsync(to, actor, detail);
        observer.Transition(transition);
    }

    private async Task NoteAsync(string message)
    {
        await services.Store.Runs.AppendNoteAsync(runId, lifecycle.State.WireName(), System, message, CancellationToken.None);
        observer.Note(message);
    }

    private async Task ChainEventAsync(RunState state, string actor, string detail) =>
        await services.Evidence.AppendRunEventAsync(
            new EvidenceRunEvent(runId, state.WireName(), stack.Name, environment.Name, actor, services.Time.GetUtcNow(), new Dictionary<string, string>
            {
                ["plan_id"] = plan.PlanId,
                ["detail"] = detail,
            }),
            CancellationToken.None);

    /// <summary>Moves to a final state (via the legal path), writes the evidence packet and the run's details.</summary>
    private async Task<ApplyOutcome> EndAsync(RunState final, int exitCode, string statement, FailureClass? failureClass, string? runbook)
    {
        if (final is RunState.Rejected && !lifecycle.CanMoveTo(RunState.Rejected))
        {
            // Refusals found after locks were taken (e.g. a changed state serial) end as failures before mutation.
            final = RunState.Failed;
            failureClass ??= FailureClass.PreMutation;
        }

        if (final == RunState.Succeeded)
        {
            // Evidence is written while Publishing, before the final transition.
            var sequence = await WritePacketAsync("succeeded", statement, null, runbook);
            await MoveAsync(RunState.Succeeded, System, statement);
            await services.Evidence.CheckpointHeadAsync(CancellationToken.None); // cover the final transition too
            await SaveDetailsAsync(null, statement, sequence, runbook);
            return Outcome(final, exitCode, statement, null, runbook, sequence);
        }

        if (!lifecycle.CanMoveTo(final))
        {
            final = lifecycle.CanMoveTo(RunState.Failed) ? RunState.Failed : RunState.NeedsReconciliation;
        }

        await MoveAsync(final, final == RunState.Cancelled ? request.Actor : System, statement);
        var status = final switch
        {
            RunState.Rejected => "blocked",
            RunState.Cancelled => "cancelled",
            _ => "failed",
        };
        var evidence = await WritePacketAsync(status, statement, failureClass, runbook);
        await SaveDetailsAsync(failureClass, statement, evidence, runbook);
        return Outcome(final, exitCode, statement, failureClass, runbook, evidence);
    }

    private ApplyOutcome Outcome(RunState final, int exitCode, string statement, FailureClass? failureClass, string? runbook, long evidence) =>
        new(runId, final, exitCode, statement, failureClass?.ToWireName(), runbook, evidence, serialBefore, serialAfter, verification, policy);

    private async Task<long> WritePacketAsync(string status, string statement, FailureClass? failureClass, string? runbook)
    {
        var summary = appliedSummary ?? approvedSummary;
        var counted = verdict?.Counted ?? [];
        var packet = new EvidencePacket(
            EvidencePacket.CurrentSchemaVersion,
            runId,
            attempt,
            new EvidenceSource(metadata.Repository, plan.Commit, metadata.Branch, null),
            new EvidenceTarget(stack.Name, environment.Name, metadata.Account, metadata.Region, null),
            new EvidenceAuthorisation(
                request.Actor,
                [.. approvals.Where(a => counted.Contains(a.Approver, StringComparer.OrdinalIgnoreCase)).GroupBy(a => a.Approver, StringComparer.OrdinalIgnoreCase).Select(g => new EvidenceApproval(g.Key, g.Min(a => a.ApprovedAt)))],
                metadata.ApprovalPolicyVersion,
                breakGlass is { } b ? new EvidenceBreakGlass(b.Approver, $"incident {b.IncidentId}: {b.Reason}", startedAt, b.ExpiresAt) : null),
            new EvidenceExecution(Environment.MachineName, engine?.Kind ?? metadata.Engine, toolVersion ?? metadata.ToolVersion, metadata.IdentityProfile, identity?.Claims ?? new Dictionary<string, string>()),
            summary is null ? null : new EvidencePlan(
                metadata.Mode,
                appliedDigest,
                new EvidenceResourceCounts(summary.Counts.Create, summary.Counts.Update, summary.Counts.Delete, summary.Counts.Replace),
                [.. summary.Risks.Select(r => $"{r.Kind}: {r.Address}")]),
            policy is null ? null : new EvidencePolicy(policy.BundleDigest, policy.Decision.ToString().ToLowerInvariant(), [.. policy.Rules.Select(r => new EvidenceRuleResult(r.Id, r.ResultName, r.Message))]),
            new EvidenceStateSerials(serialBefore, serialAfter),
            new EvidenceResult(status, failureClass?.ToWireName(), statement, runbook, null, startedAt, services.Time.GetUtcNow()),
            [.. verification.Select(c => new EvidenceVerification($"{c.Kind} {c.Target}", c.Passed ? "passed" : "failed", c.Detail))],
            [new EvidenceArtifact("plan", plan.ArtifactSha256, null)],
            [.. request.Tags ?? [], .. breakGlass is null ? Array.Empty<string>() : ["break-glass"]]);
        var (record, _) = await services.Evidence.AppendPacketAsync(packet, CancellationToken.None);
        return record.Sequence;
    }

    // The detail carries what the apply's outcome says beyond the run's columns (runbook, policy, serials,
    // verification), so `airlock apply --server` prints the same outcome from GET /api/runs/{id}.
    private async Task SaveDetailsAsync(FailureClass? failureClass, string? statement, long? evidence, string? runbook = null)
    {
        var detail = new JsonObject
        {
            ["plan_digest"] = plan.PlanDigest,
            ["applied_digest"] = appliedDigest,
            ["mode"] = metadata.Mode,
            ["region"] = metadata.Region,
            ["inputs_digest"] = metadata.InputsDigest,
            ["queue"] = queue?.Name,
            ["serial_before"] = serialBefore,
            ["serial_after"] = serialAfter,
            ["break_glass"] = breakGlass is { } b ? new JsonObject { ["incident"] = b.IncidentId, ["approver"] = b.Approver, ["reason"] = b.Reason } : null,
            ["verification"] = new JsonArray([.. verification.Select(c => (JsonNode)c.ToJson())]),
            ["runbook"] = runbook,
            ["policy"] = policy?.ToJson(),
        };
        await services.Store.Runs.SaveDetailsAsync(new RunDetails(runId, plan.PlanId, request.Actor, attempt, failureClass?.ToWireName(), statement, evidence, detail.ToJsonString()), CancellationToken.None);
    }

    private async Task ReleaseAsync()
    {
        if (locks is not null)
        {
            await locks.DisposeAsync();
        }

        if (claimKeeper is not null)
        {
            await claimKeeper.DisposeAsync();
        }

        if (queueItem is not null)
        {
            if (queueItem.State == QueueItemState.Claimed)
            {
                await services.Store.Queues.CompleteAsync(queueItem.Id, lifecycle.State.WireName(), CancellationToken.None);
            }
            else
            {
                await services.Store.Queues.CancelAsync(queueItem.Id, request.Actor, $"run {runId} ended {lifecycle.State.WireName()} while waiting", CancellationToken.None);
            }
        }

        PlanService.TryDelete(workDirectory);
    }

    private static FailureRetryPolicy RetryPolicyOf(Domain.Config.RetryPolicy config)
    {
        var classes = new HashSet<FailureClass>();
        foreach (var name in config.Retryable)
        {
            if (name == "transient_before_mutation")
            {
                classes.Add(FailureClass.PreMutation);
            }
            else if (FailureClassNames.TryParse(name, out var cls))
            {
                classes.Add(cls);
            }
        }

        return new FailureRetryPolicy(Math.Max(1, config.MaxAttempts), config.Backoff, config.MaxBackoff < config.Backoff ? config.Backoff : config.MaxBackoff, classes);
    }

    private static string Counts(PlanSummary summary) =>
        string.Create(CultureInfo.InvariantCulture, $"{summary.Counts.Create} added, {summary.Counts.Update} changed, {summary.Counts.Replace} replaced, {summary.Counts.Delete} destroyed");

    private static string Serial(long? serial) => serial?.ToString(CultureInfo.InvariantCulture) ?? "unknown";

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;

    private static string Describe(string engine, string? account, string? region, string? identity) =>
        $"{engine}, account {account ?? "-"}, region {region ?? "-"}, identity {identity ?? "-"}";
}

/// <summary>The engine failed before anything could change (init, version, state read, re-plan).</summary>
internal sealed class PreparationFailedException(FailureVerdict verdict) : Exception(verdict.Statement)
{
    public FailureVerdict Verdict { get; } = verdict;
}
