using Airlock.Application.Approvals;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Application.Apply;

/// <summary>
/// Applies over a durable queue, for the server: <see cref="EnqueueAsync"/> records the request with its run id fixed
/// up front; a worker on any replica takes it with <see cref="ClaimNextAsync"/> (exactly one worker gets each request)
/// and runs it with <see cref="RunClaimedAsync"/>, which heartbeats the claim while the governed apply
/// (<see cref="ApplyService"/>) runs. A worker that dies stops heartbeating; <see cref="RunReconciler"/> then abandons
/// its request (never re-run: it may have mutated) and reconciles the run. Host-agnostic: no HTTP here.
/// </summary>
public sealed class ApplyDispatch(AirlockServices services) : IApplyLauncher
{
    private readonly AirlockServices _services = services ?? throw new ArgumentNullException(nameof(services));

    /// <summary>Lease of claims (request, queue slot, locks); renewed every third of it while the run lives.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The apply service claimed requests run on, with <see cref="Lease"/> as its lock lease.</summary>
    public ApplyService Applies => new(_services) { LeaseDuration = Lease };

    /// <summary>
    /// Records an apply of <paramref name="planId"/> asked by <paramref name="actor"/> (the token's actor); returns the
    /// pending request. Throws <see cref="UserInputException"/> for an unknown plan or incomplete break-glass; everything
    /// else (approvals, freezes, windows, locks) is decided by the run itself, when a worker runs it.
    /// </summary>
    public async Task<ApplyRequestRecord> EnqueueAsync(string planId, string actor, BreakGlassUse? breakGlass, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(planId))
        {
            throw new UserInputException("plan_id is required");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (breakGlass is not null && (string.IsNullOrWhiteSpace(breakGlass.IncidentId) || string.IsNullOrWhiteSpace(breakGlass.Reason)))
        {
            throw new UserInputException("break_glass needs both an incident and a reason");
        }

        _ = await _services.Store.Plans.GetAsync(planId.Trim(), cancellationToken) ?? throw ApprovalService.UnknownPlan(planId.Trim());
        var request = new ApplyRequestRecord(
            AirlockServices.NewId("run"),
            planId.Trim(),
            actor,
            breakGlass?.IncidentId?.Trim(),
            breakGlass?.Reason?.Trim(),
            ApplyRequestStates.Pending,
            _services.Time.GetUtcNow());
        await _services.Store.ApplyRequests.CreateAsync(request, cancellationToken);
        return request;
    }

    /// <inheritdoc />
    public async Task<string> LaunchAsync(string planId, string actor, CancellationToken cancellationToken) =>
        (await EnqueueAsync(planId, actor, null, cancellationToken)).RunId;

    /// <summary>The request of run <paramref name="runId"/>, or null.</summary>
    public Task<ApplyRequestRecord?> GetAsync(string runId, CancellationToken cancellationToken) =>
        _services.Store.ApplyRequests.GetAsync(runId, cancellationToken);

    /// <summary>Claims the oldest pending request for <paramref name="worker"/>; null when there is none.</summary>
    public Task<ApplyRequestRecord?> ClaimNextAsync(string worker, CancellationToken cancellationToken) =>
        _services.Store.ApplyRequests.ClaimNextAsync(worker, Lease, cancellationToken);

    /// <summary>
    /// Runs a request this worker claimed through the governed apply, keeping the claim alive meanwhile and recording
    /// the run's log (<see cref="RunLogRecorder"/>; also forwarded to <paramref name="observer"/>), and marks it
    /// done with the run's final state once the whole log is stored. <paramref name="cancellationToken"/> stops the apply as Ctrl+C does in the CLI.
    /// Returns null when the run could not start (e.g. the plan's stack left the config): the request records why.
    /// A fault of Airlock or its store that escapes the run completes the request at once with <c>airlock failed: …</c>
    /// (its run settled as <see cref="RunReconciler.SettleAsync"/> does) and throws <see cref="ApplyFaultException"/>.
    /// </summary>
    public async Task<ApplyOutcome?> RunClaimedAsync(ApplyRequestRecord claimed, IApplyObserver observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        ArgumentNullException.ThrowIfNull(observer);
        var worker = claimed.ClaimedBy ?? throw new ArgumentException($"apply request {claimed.RunId} is not claimed", nameof(claimed));
        using var stopHeartbeat = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(claimed.RunId, worker, stopHeartbeat.Token);
        string outcomeText;
        ApplyOutcome? outcome = null;
        Exception? fault = null;
        var recorder = new RunLogRecorder(_services.Store.RunLogs, _services.Time, claimed.RunId, observer);
        try
        {
            var breakGlass = claimed.BreakGlassIncident is null && claimed.BreakGlassReason is null ? null : new BreakGlassUse(claimed.BreakGlassIncident, claimed.BreakGlassReason);
            outcome = await Applies.ApplyAsync(new ApplyRequest(claimed.PlanId, claimed.Actor, breakGlass, null, claimed.RunId), recorder, cancellationToken);
            outcomeText = outcome.State.WireName();
        }
        catch (Exception e) when (e is UserInputException or RefusedException)
        {
            outcomeText = "not started: " + e.Message.ReplaceLineEndings(" ");
            recorder.Note(outcomeText);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A fault of Airlock or its store that escaped the run (ApplyRun ends the run itself for everything it
            // can; what escapes is a failure of that bookkeeping). Said in the run's log and the request's outcome.
            fault = e;
            outcomeText = "airlock failed: " + OneLine(e);
            recorder.Note(outcomeText);
        }
        finally
        {
            // Every log line is in the store before the request is done: log readers end on "done" (see the SSE stream).
            await recorder.DisposeAsync();
            await stopHeartbeat.CancelAsync();
            await heartbeat;
        }

        if (fault is not null)
        {
            await CompleteFaultedAsync(claimed, worker, outcomeText, fault);
        }

        await _services.Store.ApplyRequests.CompleteAsync(claimed.RunId, worker, outcomeText, CancellationToken.None);
        return outcome;
    }

    // The request of a faulted run is done at once (not abandoned when its claim lapses, "as if the worker died"), with
    // its run settled first exactly as the reconciler would: a run left before its locks is failed (nothing changed),
    // one left later is marked needs_reconciliation. When the store cannot take that either, the claim is left to lapse
    // and the reconciler does it later; the original fault propagates either way for the worker to log.
    private async Task CompleteFaultedAsync(ApplyRequestRecord claimed, string worker, string outcomeText, Exception fault)
    {
        try
        {
            await new RunReconciler(_services).SettleAsync(
                claimed.RunId,
                state => $"{outcomeText} while the run was {state}, before it took any lock; nothing was changed",
                state => $"{outcomeText} while the run was {state}; the outcome is unknown: reconcile before anything else",
                CancellationToken.None);
            await _services.Store.ApplyRequests.CompleteAsync(claimed.RunId, worker, outcomeText, CancellationToken.None);
        }
        catch (Exception storeFault) when (storeFault is not OperationCanceledException)
        {
            throw new ApplyFaultException(claimed.RunId, outcomeText, completed: false, new AggregateException(fault, storeFault));
        }

        throw new ApplyFaultException(claimed.RunId, outcomeText, completed: true, fault);
    }

    // The first fault is the one to tell (ApplyRun wraps a fault that a second one hid while ending the run).
    private static string OneLine(Exception e)
    {
        var first = e is AggregateException { InnerExceptions.Count: > 0 } all ? all.InnerExceptions[0] : e;
        var line = $"{first.GetType().Name}: {first.Message}".ReplaceLineEndings(" ");
        return line.Length <= 300 ? line : line[..299] + "…";
    }

    private async Task HeartbeatAsync(string runId, string worker, CancellationToken stop)
    {
        var interval = Lease / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _services.Time, stop);
                // A lost claim is not acted on here: the run's own lock leases and expected-state transitions tell it.
                await _services.Store.ApplyRequests.RenewAsync(runId, worker, Lease, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or IOException)
            {
                // The store hiccuped: the next beat tries again while the lease may still be valid.
            }
        }
    }
}

/// <summary>
/// An apply failed inside Airlock (not a refusal, not a cancellation on shutdown). When <see cref="Completed"/> its
/// request is already done with <see cref="Outcome"/> and its run settled; otherwise the store could not record that
/// and the reconciler abandons the request when its claim lapses. The worker logs it and goes on.
/// </summary>
public sealed class ApplyFaultException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ApplyFaultException(string runId, string outcome, bool completed, Exception inner)
        : base($"run {runId}: {outcome}{(completed ? string.Empty : " (the request could not be completed: it is abandoned when its claim lapses)")}", inner)
    {
        RunId = runId;
        Outcome = outcome;
        Completed = completed;
    }

    /// <summary>The run (and request) id.</summary>
    public string RunId { get; }

    /// <summary>The request's outcome text: <c>airlock failed: …</c>.</summary>
    public string Outcome { get; }

    /// <summary>Whether the request was completed with <see cref="Outcome"/>.</summary>
    public bool Completed { get; }
}
