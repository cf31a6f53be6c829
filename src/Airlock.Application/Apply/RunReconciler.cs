using Airlock.Domain.Failures;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

using EvidenceRunEvent = Airlock.Domain.Evidence.RunEvent;

namespace Airlock.Application.Apply;

/// <summary>What one reconciliation pass did.</summary>
/// <param name="AbandonedRequests">Apply requests whose worker died, abandoned (never run again).</param>
/// <param name="Reconciled">Runs moved to needs_reconciliation.</param>
/// <param name="FailedBeforeLocks">Runs of dead workers that had taken no lock yet, failed (nothing was changed).</param>
public sealed record ReconcileReport(IReadOnlyList<string> AbandonedRequests, IReadOnlyList<string> Reconciled, IReadOnlyList<string> FailedBeforeLocks)
{
    /// <summary>Whether the pass changed anything.</summary>
    public bool Any => AbandonedRequests.Count + Reconciled.Count + FailedBeforeLocks.Count > 0;
}

/// <summary>
/// Finds work whose owner died, on every replica, periodically: a lock lease that lapsed while its run was still
/// running marks that run needs_reconciliation (the lock is NOT released: the stack stays blocked until a fresh plan is
/// approved, see <see cref="ApplyService.BlockedReasonAsync"/>); an apply request whose worker stopped renewing its
/// claim is abandoned, never re-run. Each mark is one expected-state transaction, so replicas racing on the same
/// lapse record it once. Never force-unlocks, never rolls anything back.
/// </summary>
public sealed class RunReconciler(AirlockServices services)
{
    private const string System = "airlock";

    /// <summary>One pass over lapsed locks and lapsed apply-request claims.</summary>
    public async Task<ReconcileReport> ReconcileOnceAsync(CancellationToken cancellationToken)
    {
        var reconciled = new List<string>();
        var failed = new List<string>();
        var abandoned = new List<string>();
        var now = services.Time.GetUtcNow();
        foreach (var lease in await services.Store.Locks.ListAsync(cancellationToken))
        {
            if (lease.IsExpiredAt(now) && await services.Store.Locks.ReconcileLapsedAsync(lease.Key, lease.FencingToken, cancellationToken))
            {
                reconciled.Add(lease.Holder.RunId);
                await ChainAsync(lease.Holder.RunId, RunState.NeedsReconciliation, $"lease on {lease.Key} lapsed: the process holding it stopped; the lock stays held until a fresh plan is approved", cancellationToken);
            }
        }

        foreach (var request in await services.Store.ApplyRequests.ListLapsedAsync(cancellationToken))
        {
            var reason = $"worker {request.ClaimedBy} stopped renewing its claim (claim lapsed at {request.ClaimedUntil:O}); the request is never run again";
            if (!await services.Store.ApplyRequests.AbandonAsync(request.RunId, reason, cancellationToken))
            {
                continue; // another replica got there first, or the worker finished after all
            }

            abandoned.Add(request.RunId);
            var settled = await SettleAsync(
                request.RunId,
                state => $"worker {request.ClaimedBy} died while the run was {state}, before it took any lock; nothing was changed",
                state => $"worker {request.ClaimedBy} died while the run was {state}; the outcome is unknown: reconcile before anything else",
                cancellationToken);
            if (settled is { } to)
            {
                (to == RunState.Failed ? failed : reconciled).Add(request.RunId);
            }
        }

        return new ReconcileReport(abandoned, reconciled, failed);
    }

    /// <summary>
    /// Settles run <paramref name="runId"/> whose owner stopped driving it (its worker died, or Airlock itself failed
    /// under it): a run still requested, validating or queued holds no lock and changed nothing, so it is failed
    /// (pre_mutation, <paramref name="beforeLocks"/> says why); any later non-final state may have changed something,
    /// so it is marked needs_reconciliation (runner_failure, <paramref name="afterLocks"/>). Final runs, runs already
    /// marked and runs that do not exist are left alone. One expected-state transition: a run that moved meanwhile is
    /// left to whoever moved it. Returns the state it was moved to, or null.
    /// </summary>
    public async Task<RunState?> SettleAsync(string runId, Func<string, string> beforeLocks, Func<string, string> afterLocks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(beforeLocks);
        ArgumentNullException.ThrowIfNull(afterLocks);
        var run = await services.Store.Runs.GetAsync(runId, cancellationToken);
        if (run is null)
        {
            return null; // it stopped before creating the run: nothing was done
        }

        var state = RunStates.ParseWireName(run.State);
        if (state.IsFinal() || state == RunState.NeedsReconciliation)
        {
            return null;
        }

        var holdsNothing = state is RunState.Requested or RunState.Validating or RunState.Queued;
        var to = holdsNothing ? RunState.Failed : RunState.NeedsReconciliation;
        var detail = holdsNothing ? beforeLocks(run.State) : afterLocks(run.State);
        try
        {
            await services.Store.Runs.TransitionAsync(run.Id, run.State, to.WireName(), System, detail, cancellationToken);
        }
        catch (RunStateConflictException)
        {
            return null; // it moved meanwhile (a lock reconciliation, or the worker was only slow)
        }

        if (await services.Store.Runs.GetDetailsAsync(run.Id, cancellationToken) is { } details)
        {
            var cls = holdsNothing ? FailureClass.PreMutation : FailureClass.RunnerFailure;
            await services.Store.Runs.SaveDetailsAsync(details with { FailureClass = cls.ToWireName(), Statement = detail }, cancellationToken);
        }

        await ChainAsync(run.Id, to, detail, cancellationToken);
        return to;
    }

    private async Task ChainAsync(string runId, RunState state, string detail, CancellationToken cancellationToken)
    {
        var run = await services.Store.Runs.GetAsync(runId, cancellationToken);
        var planId = (await services.Store.Runs.GetDetailsAsync(runId, cancellationToken))?.PlanId;
        var data = new Dictionary<string, string> { ["detail"] = detail };
        if (planId is not null)
        {
            data["plan_id"] = planId;
        }

        await services.Evidence.AppendRunEventAsync(
            new EvidenceRunEvent(runId, state.WireName(), run?.Stack ?? "?", run?.Environment ?? "?", System, services.Time.GetUtcNow(), data),
            cancellationToken);
    }
}
