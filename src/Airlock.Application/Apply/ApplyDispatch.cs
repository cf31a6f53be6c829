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
        finally
        {
            // Every log line is in the store before the request is done: log readers end on "done" (see the SSE stream).
            await recorder.DisposeAsync();
            await stopHeartbeat.CancelAsync();
            await heartbeat;
        }

        await _services.Store.ApplyRequests.CompleteAsync(claimed.RunId, worker, outcomeText, CancellationToken.None);
        return outcome;
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
