using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Apply;
using Airlock.Application.Approvals;
using Airlock.Application.Deployments;
using Airlock.Application.Graph;
using Airlock.Application.Plans;
using Airlock.Domain.Config;
using Airlock.Domain.Graph;
using Airlock.Domain.Releases;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;

namespace Airlock.Application.Releases;

/// <summary>
/// One process driving one release until it succeeds, fails, waits at a gate or is interrupted.
/// Every step mutates <see cref="ReleaseProgress"/> and saves it under the ownership lease before
/// the next step starts, so a crash loses at most the step in flight — and an apply in flight is
/// never repeated: its run is looked up and judged instead.
/// </summary>
internal sealed class ReleaseRun(
    AirlockServices services,
    ReleaseService settings,
    string releaseId,
    string owner,
    ReleaseProgress progress,
    string actor,
    bool wait,
    IReleaseObserver observer) : IDisposable
{
    private readonly SemaphoreSlim saveGate = new(1, 1);
    private readonly SemaphoreSlim buildGate = new(1, 1);
    private ReleaseStatus status = ReleaseStatus.Running;
    private volatile bool lostOwnership;

    private WorkspaceConfig Config => services.Workspace.Config;

    public void Dispose()
    {
        saveGate.Dispose();
        buildGate.Dispose();
    }

    public async Task<ReleaseOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var drive = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopHeartbeat = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(drive, stopHeartbeat.Token);
        try
        {
            await SaveAsync(ReleaseStatus.Running, null, drive.Token);
            return await DriveAsync(drive.Token);
        }
        catch (OperationCanceledException) when (lostOwnership)
        {
            return Outcome(ReleaseStatus.Failed, ExitCodes.Failed, $"release {releaseId} lost its ownership lease to another process; this process stopped driving it");
        }
        catch (LostReleaseOwnershipException)
        {
            return Outcome(ReleaseStatus.Failed, ExitCodes.Failed, $"release {releaseId} was taken over by another process; this process stopped driving it");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var statement = $"interrupted; continue with: airlock release resume {releaseId}";
            await SaveAsync(ReleaseStatus.Interrupted, p => p.Statement = statement, CancellationToken.None);
            await settings.RecordAsync(releaseId, "release_interrupted", actor, new Dictionary<string, string>(), CancellationToken.None);
            return Outcome(ReleaseStatus.Interrupted, ExitCodes.Cancelled, statement);
        }
        finally
        {
            await stopHeartbeat.CancelAsync();
            await heartbeat;
            if (!lostOwnership)
            {
                await services.Store.Releases.ReleaseOwnershipAsync(releaseId, owner, CancellationToken.None);
            }
        }
    }

    private async Task<ReleaseOutcome> DriveAsync(CancellationToken cancellationToken)
    {
        for (var index = 0; index < progress.Environments.Count; index++)
        {
            var env = progress.Environments[index];
            if (env.Status == StageStatus.Succeeded)
            {
                continue;
            }

            var environment = services.Workspace.Environment(env.Name);
            if (await HoldAsync(env, environment, cancellationToken) is { } held)
            {
                return held;
            }

            await SaveAsync(ReleaseStatus.Running, _ => { env.Status = StageStatus.Running; env.Reason = null; }, cancellationToken);
            observer.Report($"{env.Name}: started");
            for (var w = 0; w < env.Waves.Count; w++)
            {
                var wave = env.Waves[w];
                if (wave.Status == StageStatus.Succeeded)
                {
                    continue;
                }

                var isLastWave = w == env.Waves.Count - 1;
                if (await RunWaveAsync(env, environment, wave, isLastWave, cancellationToken) is { } stopped)
                {
                    return stopped;
                }

                if (!isLastWave && wave.Bake > TimeSpan.Zero)
                {
                    if (progress.SkipCanaryWait is { } skip)
                    {
                        await SaveAsync(ReleaseStatus.Running, p => p.Note(Now, $"{env.Name}: bake of wave {wave.Name} skipped in an emergency by {skip.Actor} (ticket {skip.Ticket})"), cancellationToken);
                        await settings.RecordAsync(releaseId, "release_canary_wait_skipped", skip.Actor, new Dictionary<string, string> { ["environment"] = env.Name, ["wave"] = wave.Name, ["ticket"] = skip.Ticket }, cancellationToken);
                        observer.Report($"{env.Name}: wave {wave.Name} bake skipped (emergency, ticket {skip.Ticket})");
                    }
                    else
                    {
                        await SaveAsync(ReleaseStatus.Running, _ => { wave.Status = StageStatus.Baking; wave.BakeUntil ??= Now + wave.Bake; }, cancellationToken);
                        observer.Report($"{env.Name}: wave {wave.Name} baking until {ReleaseService.Instant(wave.BakeUntil)} under health checks");
                        var bake = await SoakAsync(environment, [wave], wave.BakeUntil!.Value, cancellationToken);
                        if (!bake.Passed)
                        {
                            return await FailAsync(env, wave, $"{env.Name}: wave {wave.Name} failed its bake ({bake.Statement}); later waves do not run");
                        }
                    }
                }

                await SaveAsync(ReleaseStatus.Running, p => { wave.Status = StageStatus.Succeeded; p.Note(Now, $"{env.Name}: wave {wave.Name} passed"); }, cancellationToken);
            }

            var hasNext = index < progress.Environments.Count - 1;
            if (hasNext && environment.Promotion is { Soak: var soak } && soak > TimeSpan.Zero)
            {
                await SaveAsync(ReleaseStatus.Running, _ => { env.Status = StageStatus.Baking; env.SoakUntil ??= Now + soak; }, cancellationToken);
                observer.Report($"{env.Name}: soaking until {ReleaseService.Instant(env.SoakUntil)} under health checks");
                var soaked = await SoakAsync(environment, env.Waves, env.SoakUntil!.Value, cancellationToken);
                if (!soaked.Passed)
                {
                    return await FailAsync(env, null, $"{env.Name}: soak failed ({soaked.Statement}); not promoted");
                }
            }

            await SaveAsync(ReleaseStatus.Running, p => { env.Status = StageStatus.Succeeded; p.Note(Now, $"{env.Name}: passed"); }, cancellationToken);
            await settings.RecordAsync(releaseId, "release_environment_passed", actor, new Dictionary<string, string> { ["environment"] = env.Name, ["version"] = progress.Version, ["infra_version"] = progress.InfraVersion }, cancellationToken);
            observer.Report($"✓ {env.Name}: passed");
        }

        var done = $"release {progress.Version} (infra {progress.InfraVersion}) reached {string.Join(", ", progress.Environments.Select(e => e.Name))}";
        await SaveAsync(ReleaseStatus.Succeeded, p => { p.Statement = done; p.Note(Now, done); }, cancellationToken);
        await settings.RecordAsync(releaseId, "release_finished", actor, new Dictionary<string, string> { ["status"] = "succeeded" }, cancellationToken);
        return Outcome(ReleaseStatus.Succeeded, ExitCodes.Ok, done);
    }

    // Change windows, calendar freezes and incident freezes hold the release before the environment starts.
    private Task<ReleaseOutcome?> HoldAsync(EnvironmentProgress env, EnvironmentConfig environment, CancellationToken cancellationToken) =>
        GateAsync(env, () => HoldReasonAsync(environment, cancellationToken), $"continue later with: airlock release resume {releaseId}", cancellationToken);

    // Holds while `blocked` names a reason: each new reason is saved and shown; then the release either waits,
    // polling, or (with --no-wait) pauses with exit 4 to be resumed later.
    private async Task<ReleaseOutcome?> GateAsync(EnvironmentProgress env, Func<Task<string?>> blocked, string resumeHint, CancellationToken cancellationToken)
    {
        string? announced = null;
        while (await blocked() is { } reason)
        {
            if (reason != announced)
            {
                await SaveAsync(ReleaseStatus.Waiting, p => { env.Status = StageStatus.Waiting; env.Reason = reason; p.Statement = reason; p.Note(Now, reason); }, cancellationToken);
                observer.Report($"■ {reason}");
                announced = reason;
            }

            if (!wait)
            {
                return Outcome(ReleaseStatus.Waiting, ReleaseService.WaitingExitCode, $"{reason}; {resumeHint}");
            }

            await Task.Delay(settings.GatePollInterval, services.Time, cancellationToken);
        }

        return null;
    }

    private async Task<string?> HoldReasonAsync(EnvironmentConfig environment, CancellationToken cancellationToken)
    {
        var now = Now;
        if (await services.Store.Freezes.ActiveAsync(environment.Name, cancellationToken) is { } incident)
        {
            return $"{environment.Name} is frozen for an incident by {incident.StartedBy}: {incident.Reason}";
        }

        if (ChangeCalendar.ActiveFreeze(environment, now) is { } freeze)
        {
            return $"{environment.Name} is in the {freeze.Name} freeze until {freeze.To:yyyy-MM-dd}";
        }

        return ChangeCalendar.IsInsideWindow(environment, now) ? null : $"{environment.Name} is outside its change window ({environment.TimeZone.Id})";
    }

    // Plan the wave's stacks, gate on approvals, roll out region by region (max_parallel at once).
    private async Task<ReleaseOutcome?> RunWaveAsync(EnvironmentProgress env, EnvironmentConfig environment, WaveProgress wave, bool isLastWave, CancellationToken cancellationToken)
    {
        await SaveAsync(ReleaseStatus.Running, _ => wave.Status = StageStatus.Running, cancellationToken);
        var graph = StackGraph.From(Config, env.Name);
        foreach (var target in Ordered(graph, wave.Targets))
        {
            if (target.Status is TargetStatus.Pending && !await PlanTargetAsync(env, environment, wave, target, allowDefer: true, cancellationToken))
            {
                return await FailAsync(env, wave, $"{env.Name}: planning {target.Label} failed: {target.Detail}");
            }
        }

        if (await ApprovalGateAsync(env, environment, wave, cancellationToken) is { } paused)
        {
            return paused;
        }

        var slots = environment.Waves.IsEmpty ? [null] : wave.Regions;
        using var regions = new SemaphoreSlim(wave.MaxParallel);
        var results = await Task.WhenAll(slots.Select(async slot =>
        {
            await regions.WaitAsync(cancellationToken);
            try
            {
                return await RunRegionAsync(env, environment, wave, graph, slot, environment.Waves.IsEmpty, cancellationToken);
            }
            finally
            {
                regions.Release();
            }
        }));

        if (results.FirstOrDefault(r => r.Kind == RegionResultKind.Failed) is { } failed)
        {
            var named = environment.Waves.IsEmpty ? failed.Statement : $"wave {wave.Name}: {failed.Statement}";
            return await FailAsync(env, wave, isLastWave ? named : named + "; later waves do not run");
        }

        if (results.FirstOrDefault(r => r.Kind == RegionResultKind.Paused) is { } waiting)
        {
            var statement = $"{waiting.Statement}; continue with: airlock release resume {releaseId}";
            await SaveAsync(ReleaseStatus.Waiting, p => { env.Status = StageStatus.Waiting; env.Reason = waiting.Statement; p.Statement = statement; }, cancellationToken);
            return Outcome(ReleaseStatus.Waiting, ReleaseService.WaitingExitCode, statement);
        }

        return null;
    }

    private enum RegionResultKind
    {
        Passed,
        Failed,
        Paused,
    }

    private sealed record RegionResult(RegionResultKind Kind, string Statement);

    private async Task<RegionResult> RunRegionAsync(EnvironmentProgress env, EnvironmentConfig environment, WaveProgress wave, StackGraph graph, string? slot, bool wholeWave, CancellationToken cancellationToken)
    {
        var where = slot is null ? env.Name : $"{env.Name}/{slot}";
        var targets = wave.Targets.Where(t => wholeWave || t.Region == slot).ToDictionary(t => t.Stack, StringComparer.Ordinal);
        if (targets.Count > 0)
        {
            var schedule = DagSchedule.FromGraph(graph, targets.Keys);
            var result = await DagRunner.RunAsync(
                schedule,
                Config.Defaults.Parallelism,
                (stack, ct) => ApplyTargetAsync(env, environment, wave, targets[stack], ct),
                cancellationToken);
            var failed = targets.Values.Where(t => t.Status == TargetStatus.Failed).ToList();
            var awaiting = targets.Values.Where(t => t.Status == TargetStatus.AwaitingApproval).ToList();
            var skipped = targets.Values.Where(t => result.StateOf(t.Stack) == DagNodeState.Skipped).ToList();
            if (failed.Count > 0)
            {
                await SaveAsync(ReleaseStatus.Running, _ =>
                {
                    foreach (var target in skipped)
                    {
                        target.Status = TargetStatus.Skipped;
                        target.Detail = "not run: a stack it depends on failed";
                    }

                    foreach (var app in AppsIn(wave, slot, wholeWave))
                    {
                        app.Status = AppStatus.Skipped;
                        app.Detail = "not deployed: infrastructure failed";
                    }
                }, cancellationToken);
                return new RegionResult(RegionResultKind.Failed, $"{where}: {string.Join("; ", failed.Select(f => $"{f.Label} failed: {f.Detail}"))}"
                    + (skipped.Count > 0 ? $"; not run: {string.Join(", ", skipped.Select(s => s.Label))}" : ""));
            }

            if (awaiting.Count > 0)
            {
                return new RegionResult(RegionResultKind.Paused, $"{where}: waiting for approvals of {string.Join(", ", awaiting.Select(a => $"{a.Label} ({a.PlanId}: {a.Detail})"))}");
            }
        }

        foreach (var app in AppsIn(wave, slot, wholeWave))
        {
            var deployed = await DeployAppAsync(env, environment, app, cancellationToken);
            if (!deployed)
            {
                return new RegionResult(RegionResultKind.Failed, $"{where}: {app.Label} {Describe(app.Status)}: {app.Detail}");
            }
        }

        return new RegionResult(RegionResultKind.Passed, $"{where}: passed");
    }

    private static IEnumerable<AppProgress> AppsIn(WaveProgress wave, string? slot, bool wholeWave) =>
        wave.Apps.Where(a => wholeWave || a.Region == slot);

    private static string Describe(AppStatus status) => status switch
    {
        AppStatus.RolledBack => "rolled back",
        _ => status.ToString().ToLowerInvariant(),
    };

    private static List<TargetProgress> Ordered(StackGraph graph, IEnumerable<TargetProgress> targets)
    {
        return targets.OrderBy(t => graph.Position(t.Stack)).ThenBy(t => t.Region, StringComparer.Ordinal).ToList();
    }

    // Plans one target. A stack whose inputs come from an upstream stack this release has yet to apply
    // in the same region is deferred: it is planned once the upstream outputs exist.
    private async Task<bool> PlanTargetAsync(EnvironmentProgress env, EnvironmentConfig environment, WaveProgress wave, TargetProgress target, bool allowDefer, CancellationToken cancellationToken)
    {
        var stack = services.Workspace.Stack(target.Stack);
        if (!stack.Inputs.IsEmpty)
        {
            try
            {
                _ = await services.Inputs.ResolveAsync(stack, environment, target.Region, cancellationToken);
            }
            catch (RefusedException e) when (allowDefer && UpstreamPending(env, wave, target))
            {
                await SaveAsync(ReleaseStatus.Running, _ => { target.Status = TargetStatus.Deferred; target.Detail = e.Message; }, cancellationToken);
                observer.Report($"{env.Name}: {target.Label} planned after its upstream applies ({e.Message})");
                return true;
            }
        }

        try
        {
            var outcome = await new PlanService(services).PlanAsync(new PlanRequest(stack.Name, environment.Name, actor, target.Region), observer.ToolOutput, cancellationToken);
            var counts = outcome.Summary.Counts;
            await SaveAsync(ReleaseStatus.Running, p =>
            {
                target.PlanId = outcome.Record.PlanId;
                target.Status = outcome.Summary.HasChanges ? TargetStatus.Planned : TargetStatus.Unchanged;
                target.Detail = outcome.Summary.HasChanges ? $"+{counts.Create} ~{counts.Update} ±{counts.Replace} -{counts.Delete}" : "no changes";
                p.Note(Now, $"{env.Name}: planned {target.Label} ({target.PlanId}): {target.Detail}");
            }, cancellationToken);
            observer.Report($"{env.Name}: planned {target.Label} {target.PlanId}: {target.Detail}");
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException and not LostReleaseOwnershipException)
        {
            await SaveAsync(ReleaseStatus.Running, _ => { target.Status = TargetStatus.Failed; target.Detail = e.Message; }, cancellationToken);
            return false;
        }
    }

    private bool UpstreamPending(EnvironmentProgress env, WaveProgress wave, TargetProgress target)
    {
        var graph = StackGraph.From(Config, env.Name);
        var upstream = graph.Upstream(target.Stack).ToHashSet(StringComparer.Ordinal);
        return wave.Targets.Any(t => t.Region == target.Region && upstream.Contains(t.Stack) && t.Status is not (TargetStatus.Applied or TargetStatus.Unchanged));
    }

    // Every planned target of the wave must be approved before any of them applies.
    private Task<ReleaseOutcome?> ApprovalGateAsync(EnvironmentProgress env, EnvironmentConfig environment, WaveProgress wave, CancellationToken cancellationToken) =>
        GateAsync(
            env,
            async () =>
            {
                var waiting = new List<string>();
                foreach (var target in wave.Targets.Where(t => t.Status is TargetStatus.Planned or TargetStatus.AwaitingApproval))
                {
                    if (await ApprovalProblemAsync(env, environment, wave, target, cancellationToken) is { } problem)
                    {
                        waiting.Add($"{target.Label} ({target.PlanId}): {problem}");
                    }
                }

                return waiting.Count == 0 ? null : $"{env.Name}: waiting for approvals — {string.Join("; ", waiting)}";
            },
            $"approve with airlock approve PLAN, then: airlock release resume {releaseId}",
            cancellationToken);

    // Null when the target's plan is current and approved; otherwise what is missing. Expired plans are made again.
    private async Task<string?> ApprovalProblemAsync(EnvironmentProgress env, EnvironmentConfig environment, WaveProgress wave, TargetProgress target, CancellationToken cancellationToken)
    {
        var plan = target.PlanId is { } id ? await services.Store.Plans.GetAsync(id, cancellationToken) : null;
        if (plan is null || plan.ExpiresAt <= Now)
        {
            observer.Report($"{env.Name}: the plan of {target.Label} expired; planning again");
            if (!await PlanTargetAsync(env, environment, wave, target, allowDefer: false, cancellationToken))
            {
                return $"planning again failed: {target.Detail}";
            }

            if (target.Status == TargetStatus.Unchanged)
            {
                return null;
            }
        }

        var verdict = (await new ApprovalService(services).ListAsync(target.PlanId!, cancellationToken)).Verdict;
        var problem = verdict.Satisfied ? null : string.Join("; ", verdict.Problems);
        await SaveAsync(status, _ =>
        {
            target.Status = verdict.Satisfied ? TargetStatus.Planned : TargetStatus.AwaitingApproval;
            if (!verdict.Satisfied)
            {
                target.Detail = problem;
            }
        }, cancellationToken);
        return problem;
    }

    private async Task<bool> ApplyTargetAsync(EnvironmentProgress env, EnvironmentConfig environment, WaveProgress wave, TargetProgress target, CancellationToken cancellationToken)
    {
        switch (target.Status)
        {
            case TargetStatus.Applied or TargetStatus.Unchanged:
                return true;
            case TargetStatus.Applying:
                if (await JudgeInterruptedApplyAsync(env, target, cancellationToken) is { } judged)
                {
                    return judged;
                }

                break;
            case TargetStatus.Deferred or TargetStatus.Pending:
                if (!await PlanTargetAsync(env, environment, wave, target, allowDefer: false, cancellationToken))
                {
                    return false;
                }

                break;
        }

        if (target.Status == TargetStatus.Unchanged)
        {
            return true;
        }

        // Upstream applies may have changed the outputs this plan was made with: plan again rather than let the apply refuse.
        var stack = services.Workspace.Stack(target.Stack);
        if (!stack.Inputs.IsEmpty && target.PlanId is { } planId && await services.Store.Plans.GetAsync(planId, cancellationToken) is { } plan)
        {
            var inputs = await services.Inputs.ResolveAsync(stack, environment, target.Region, cancellationToken);
            if (PlanMetadata.FromJson(plan.MetadataJson).InputsDigest != inputs.Digest)
            {
                observer.Report($"{env.Name}: upstream outputs of {target.Label} changed since its plan; planning again");
                if (!await PlanTargetAsync(env, environment, wave, target, allowDefer: false, cancellationToken))
                {
                    return false;
                }

                if (target.Status == TargetStatus.Unchanged)
                {
                    return true;
                }
            }
        }

        while (await ApprovalProblemAsync(env, environment, wave, target, cancellationToken) is { } problem)
        {
            if (target.Status == TargetStatus.Failed)
            {
                return false;
            }

            if (!wait)
            {
                return false; // paused: the target stays awaiting approval, its dependants wait with it
            }

            var reason = $"{env.Name}: waiting for approvals — {target.Label} ({target.PlanId}): {problem}";
            await SaveAsync(ReleaseStatus.Waiting, p => { env.Reason = reason; p.Statement = reason; }, cancellationToken);
            await Task.Delay(settings.GatePollInterval, services.Time, cancellationToken);
        }

        if (target.Status == TargetStatus.Unchanged)
        {
            return true;
        }

        await SaveAsync(ReleaseStatus.Running, p => { target.Status = TargetStatus.Applying; target.RunId = null; p.Note(Now, $"{env.Name}: applying {target.Label} ({target.PlanId})"); }, cancellationToken);
        observer.Report($"{env.Name}: applying {target.Label} ({target.PlanId})");
        var apply = new ApplyService(services);
        var runObserver = new TargetRunObserver(this, target, observer);
        ApplyOutcome outcome;
        try
        {
            outcome = await apply.ApplyAsync(new ApplyRequest(target.PlanId!, actor, Tags: [$"app:{progress.Version}-infra:{progress.InfraVersion}", $"release:{releaseId}"]), runObserver, cancellationToken);
        }
        catch (UserInputException e)
        {
            await SaveAsync(ReleaseStatus.Running, _ => { target.Status = TargetStatus.Failed; target.Detail = e.Message; }, cancellationToken);
            return false;
        }

        if (outcome.ExitCode == ExitCodes.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // Stopped by Ctrl+C: the run recorded what it knows; a resume judges that run rather than re-apply.
            await SaveAsync(ReleaseStatus.Running, _ => { target.RunId = outcome.RunId; target.Detail = outcome.Statement; }, CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
        }

        var applied = outcome.ExitCode == ExitCodes.Ok;
        await SaveAsync(ReleaseStatus.Running, p =>
        {
            target.RunId = outcome.RunId;
            target.Status = applied ? TargetStatus.Applied : TargetStatus.Failed;
            target.Detail = outcome.Statement;
            p.Note(Now, $"{env.Name}: {target.Label} {(applied ? "applied" : "failed")} (run {outcome.RunId}): {outcome.Statement}");
        }, cancellationToken);
        observer.Report($"{(applied ? "✓" : "✖")} {env.Name}: {target.Label} {(applied ? "applied" : "failed")} (run {outcome.RunId}): {outcome.Statement}");
        return applied;
    }

    // The release stopped while this target's apply was in flight. Never apply again blindly: look at the run.
    private async Task<bool?> JudgeInterruptedApplyAsync(EnvironmentProgress env, TargetProgress target, CancellationToken cancellationToken)
    {
        var runId = target.RunId ?? await FindRunOfPlanAsync(target, cancellationToken);
        if (runId is null)
        {
            await SaveAsync(ReleaseStatus.Running, _ => target.Status = TargetStatus.Planned, cancellationToken);
            return null; // the apply never started a run: nothing happened, apply it now
        }

        var run = await services.Store.Runs.GetAsync(runId, cancellationToken);
        var state = run is null ? RunState.NeedsReconciliation : RunStates.ParseWireName(run.State);
        var (applied, detail) = state switch
        {
            RunState.Succeeded => (true, $"applied by run {runId} before the release stopped"),
            _ when state.IsFinal() => (false, $"run {runId} ended {state.WireName()} before the release stopped"),
            _ => (false, $"run {runId} was still {state.WireName()} when the release stopped: it may have changed infrastructure, so it is not applied again; reconcile it (airlock run show {runId}) and start a new release"),
        };
        await SaveAsync(ReleaseStatus.Running, p =>
        {
            target.RunId = runId;
            target.Status = applied ? TargetStatus.Applied : TargetStatus.Failed;
            target.Detail = detail;
            p.Note(Now, $"{env.Name}: {target.Label}: {detail}");
        }, cancellationToken);
        observer.Report($"{(applied ? "✓" : "✖")} {env.Name}: {target.Label}: {detail}");
        return applied;
    }

    private async Task<string?> FindRunOfPlanAsync(TargetProgress target, CancellationToken cancellationToken)
    {
        if (target.PlanId is not { } id)
        {
            return null;
        }

        var runs = await services.Store.Runs.ListForPlanAsync(id, cancellationToken);
        return runs.Count > 0 ? runs[0].Id : null;
    }

    internal void RecordRunId(TargetProgress target, string runId)
    {
        if (target.RunId is null)
        {
            // Best effort: the run id is also found through the plan if this save is lost in a crash.
            target.RunId = runId;
            _ = SaveAsync(ReleaseStatus.Running, null, CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task<bool> DeployAppAsync(EnvironmentProgress env, EnvironmentConfig environment, AppProgress app, CancellationToken cancellationToken)
    {
        if (app.Status == AppStatus.Live)
        {
            return true;
        }

        var config = Config.FindApplication(app.App) ?? throw new UserInputException($"application '{app.App}' is no longer in airlock.yaml");
        if (!await EnsureArtifactAsync(config, cancellationToken))
        {
            await SaveAsync(ReleaseStatus.Running, _ => { app.Status = AppStatus.Failed; app.Detail = progress.Statement; }, cancellationToken);
            return false;
        }

        var live = await services.Store.Deployments.LiveAsync(app.App, env.Name, app.Region, cancellationToken);
        if (live is not null && live.ReleaseId == releaseId && live.AppVersion == progress.Version)
        {
            // Deployed and recorded live before the release stopped: not deployed twice.
            await SaveAsync(ReleaseStatus.Running, _ => { app.Status = AppStatus.Live; app.DeploymentId = live.Id; app.Color = live.Color; }, cancellationToken);
            return true;
        }

        var infraOutputs = await InfraOutputsAsync(config, environment, app.Region, cancellationToken);
        var infraVersion = InfraVersionIn(env, app.Region, live);
        var deploymentId = await services.Store.Deployments.StartAsync(
            new DeploymentRecord(0, releaseId, app.App, env.Name, app.Region, progress.Version, infraVersion, progress.Commit, Strategy(config), null, "deploying", Now, null, "{}"),
            cancellationToken);
        await SaveAsync(ReleaseStatus.Running, p => { app.Status = AppStatus.Deploying; app.DeploymentId = deploymentId; p.Note(Now, $"{env.Name}: deploying {app.Label} {progress.Version} (previous {live?.AppVersion ?? "none"})"); }, cancellationToken);
        observer.Report($"{env.Name}: deploying {app.Label} {progress.Version} ({Strategy(config)}; previous {live?.AppVersion ?? "none"})");
        var deployer = new ApplicationDeployer(services);
        var result = await deployer.DeployAsync(
            new DeploymentRequest(config, environment, app.Region, progress.Version, live?.AppVersion, live?.Color, progress.Artifact.Directory!, infraOutputs, new Dictionary<string, string>())
            {
                PreviousArtifactDirectory = live is null ? null : ArtifactDirectoryOf(live.ReleaseId) is { } previous && Directory.Exists(previous) ? previous : null,
            },
            new DeploymentObserver(observer, env.Name, app.Label),
            cancellationToken);
        var detail = new JsonObject
        {
            ["statement"] = result.Statement,
            ["tag"] = $"app:{progress.Version}-infra:{infraVersion}",
            ["steps"] = new JsonArray([.. result.Steps.Select(s => (JsonNode)new JsonObject { ["step"] = s.Step, ["passed"] = s.Passed, ["detail"] = s.Detail, ["at"] = s.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture) })]),
            ["health"] = new JsonArray([.. result.Health.Select(h => (JsonNode)h.ToJson())]),
        };
        await services.Store.Deployments.FinishAsync(deploymentId, result.Outcome, result.Color, Now, detail.ToJsonString(), cancellationToken);
        var status = result.Outcome switch
        {
            "live" => AppStatus.Live,
            "rolled_back" => AppStatus.RolledBack,
            _ => AppStatus.Failed,
        };
        await SaveAsync(ReleaseStatus.Running, p =>
        {
            app.Status = status;
            app.Color = result.Color;
            app.Detail = result.Statement;
            foreach (var (key, value) in result.Outputs)
            {
                app.Outputs[key] = value;
            }

            p.Note(Now, $"{env.Name}: {app.Label} {Describe(status)}: {result.Statement}");
        }, cancellationToken);
        await settings.RecordAsync(releaseId, "release_app_" + result.Outcome, actor, new Dictionary<string, string>
        {
            ["application"] = app.App,
            ["environment"] = env.Name,
            ["region"] = app.Region ?? "",
            ["tag"] = $"app:{progress.Version}-infra:{infraVersion}",
            ["previous_version"] = live?.AppVersion ?? "",
            ["statement"] = result.Statement,
        }, cancellationToken);
        observer.Report($"{(status == AppStatus.Live ? "✓" : "✖")} {env.Name}: {app.Label} {Describe(status)}: {result.Statement}");
        if (status == AppStatus.RolledBack)
        {
            observer.Report($"  infrastructure is never rolled back automatically: it stays at {progress.InfraVersion}");
        }

        return status == AppStatus.Live;
    }

    // The infrastructure the application runs on in this region: this release's when it applied stacks
    // there, else whatever the live deployment ran on (an app-only release changes no infrastructure).
    private string InfraVersionIn(EnvironmentProgress env, string? region, DeploymentRecord? live)
    {
        var appliedHere = env.Targets.Any(t => t.Status == TargetStatus.Applied && (t.Region == region || region is null));
        return appliedHere || live is null ? progress.InfraVersion : live.InfraVersion;
    }

    private static string Strategy(ApplicationConfig config) => config.Strategy.Kind switch
    {
        DeploymentStrategyKind.BlueGreen => "blue-green",
        DeploymentStrategyKind.Canary => "canary",
        _ => "direct",
    };

    // Build and test once per release; every environment deploys the same artifact.
    private async Task<bool> EnsureArtifactAsync(ApplicationConfig config, CancellationToken cancellationToken)
    {
        await buildGate.WaitAsync(cancellationToken);
        try
        {
            var directory = progress.Artifact.Directory ?? ArtifactDirectoryOf(releaseId);
            var deployer = new ApplicationDeployer(services);
            var sink = new DeploymentObserver(observer, "build", config.Name);
            if (!progress.Artifact.Built)
            {
                observer.Report($"building {config.Name} {progress.Version} once for every environment");
                var built = await deployer.BuildAsync(config, progress.Version, directory, sink, cancellationToken);
                if (!built.Passed)
                {
                    await SaveAsync(ReleaseStatus.Running, p => p.Statement = $"build of {config.Name} failed: {built.Statement}", cancellationToken);
                    return false;
                }

                await SaveAsync(ReleaseStatus.Running, p => { p.Artifact.Directory = directory; p.Artifact.Built = true; p.Note(Now, $"built {config.Name} {progress.Version} into {directory}"); }, cancellationToken);
            }

            if (!progress.Artifact.Tested)
            {
                var tested = await deployer.TestAsync(config, progress.Version, directory, sink, cancellationToken);
                if (!tested.Passed)
                {
                    await SaveAsync(ReleaseStatus.Running, p => p.Statement = $"tests of {config.Name} failed: {tested.Statement}", cancellationToken);
                    return false;
                }

                await SaveAsync(ReleaseStatus.Running, p => { p.Artifact.Tested = true; p.Note(Now, $"tested {config.Name} {progress.Version}"); }, cancellationToken);
            }

            return true;
        }
        finally
        {
            buildGate.Release();
        }
    }

    private string ArtifactDirectoryOf(string release) => Path.Combine(services.Workspace.StateDirectory, "releases", release, "artifact");

    // The outputs of the stacks the application depends on, as {stack: {output: value}}.
    private async Task<string> InfraOutputsAsync(ApplicationConfig config, EnvironmentConfig environment, string? region, CancellationToken cancellationToken)
    {
        var outputs = new JsonObject();
        foreach (var name in config.DependsOn)
        {
            if (Config.FindStack(name) is { } stack && stack.IsEnabledIn(environment.Name))
            {
                var values = await services.Inputs.OutputsAsync(stack, environment, region, cancellationToken);
                outputs[name] = JsonNode.Parse(values.GetRawText());
            }
        }

        return outputs.ToJsonString();
    }

    // Repeated health checks until `until`: applications live in these waves, plus the environment's promotion checks.
    private async Task<StepResult> SoakAsync(EnvironmentConfig environment, IReadOnlyList<WaveProgress> waves, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var remaining = until - Now;
        if (remaining <= TimeSpan.Zero)
        {
            return new StepResult(true, "soak time already served", []);
        }

        var interval = TimeSpan.FromTicks(Math.Clamp(remaining.Ticks / 6, TimeSpan.FromMilliseconds(500).Ticks, TimeSpan.FromSeconds(30).Ticks));
        var extra = environment.Promotion?.Health ?? [];
        var deployer = new ApplicationDeployer(services);
        var apps = waves.SelectMany(w => w.Apps).Where(a => a.Status == AppStatus.Live).ToList();
        var sink = new DeploymentObserver(observer, environment.Name, "soak");
        var checks = apps.Count == 0
            ? [deployer.SoakAsync(null, extra, environment, null, progress.Version, new Dictionary<string, string>(), remaining, interval, sink, cancellationToken)]
            : apps.Select(a => deployer.SoakAsync(Config.FindApplication(a.App), extra, environment, a.Region, progress.Version, a.Outputs, remaining, interval, sink, cancellationToken)).ToArray();
        var results = await Task.WhenAll(checks);
        return results.FirstOrDefault(r => !r.Passed) ?? results[0];
    }

    private async Task<ReleaseOutcome> FailAsync(EnvironmentProgress env, WaveProgress? wave, string statement)
    {
        await SaveAsync(ReleaseStatus.Failed, p =>
        {
            env.Status = StageStatus.Failed;
            env.Reason = statement;
            if (wave is not null)
            {
                wave.Status = StageStatus.Failed;
            }

            p.Statement = statement;
            p.Note(Now, statement);
        }, CancellationToken.None);
        await settings.RecordAsync(releaseId, "release_finished", actor, new Dictionary<string, string> { ["status"] = "failed", ["statement"] = statement }, CancellationToken.None);
        observer.Report($"✖ {statement}");
        if (env.Targets.Any(t => t.Status == TargetStatus.Applied))
        {
            observer.Report($"  infrastructure applied in {env.Name} stays as it is (never rolled back automatically); to revert it: airlock release revert {releaseId} --env {env.Name}");
        }

        return Outcome(ReleaseStatus.Failed, ExitCodes.Failed, statement);
    }

    private ReleaseOutcome Outcome(ReleaseStatus final, int exitCode, string statement) => new(releaseId, final, exitCode, statement, progress);

    private DateTimeOffset Now => services.Time.GetUtcNow();

    // Mutations and saves are serialised: regions of a wave run in parallel against one progress document.
    private async Task SaveAsync(ReleaseStatus newStatus, Action<ReleaseProgress>? mutate, CancellationToken cancellationToken)
    {
        await saveGate.WaitAsync(cancellationToken);
        try
        {
            mutate?.Invoke(progress);
            status = newStatus;
            if (!await services.Store.Releases.SaveAsync(releaseId, owner, ReleaseService.Wire(newStatus), progress.ToJson(), Now, CancellationToken.None))
            {
                lostOwnership = true;
                throw new LostReleaseOwnershipException();
            }
        }
        finally
        {
            saveGate.Release();
        }
    }

    private async Task HeartbeatAsync(CancellationTokenSource drive, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(settings.Lease / 3, services.Time, stop);
                if (!await services.Store.Releases.RenewAsync(releaseId, owner, Now, settings.Lease, CancellationToken.None))
                {
                    lostOwnership = true;
                    await drive.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopped with the release
        }
    }

    private sealed class TargetRunObserver(ReleaseRun run, TargetProgress target, IReleaseObserver observer) : IApplyObserver
    {
        public IOutputSink ToolOutput => observer.ToolOutput;

        public void Transition(RunTransition transition)
        {
            run.RecordRunId(target, transition.RunId);
            observer.Report($"  {target.Label}: {transition.From.WireName()} → {transition.To.WireName()}" + (string.IsNullOrEmpty(transition.Detail) ? "" : $" ({transition.Detail})"));
        }

        public void Note(string message) => observer.Report($"  {target.Label}: {message}");
    }

    private sealed class DeploymentObserver(IReleaseObserver observer, string where, string what) : IDeploymentObserver
    {
        public IOutputSink Output => observer.ToolOutput;

        public void Report(string message) => observer.Report($"  {where}: {what}: {message}");
    }
}

/// <summary>Another process took the release over (its lease had lapsed): this one must stop driving it.</summary>
internal sealed class LostReleaseOwnershipException() : Exception("the release was taken over by another process");
