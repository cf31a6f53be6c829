using Airlock.Application;
using Airlock.Application.Apply;
using Airlock.Domain.Runs;
using Airlock.Engines.Processes;
using Airlock.Server.Hosting;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Server.Workers;

/// <summary>Registers the apply workers and the reconciler of one replica.</summary>
public static class WorkerRegistration
{
    /// <summary>Adds <see cref="ApplyDispatch"/> (also as <see cref="IApplyLauncher"/>), the workers and the reconciler.</summary>
    public static IServiceCollection AddApplyWorkers(this IServiceCollection services, AirlockServices airlock, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dispatch = new ApplyDispatch(airlock) { Lease = options.Lease };
        services.AddSingleton(dispatch);
        services.AddSingleton<IApplyLauncher>(dispatch);
        services.AddSingleton(new RunReconciler(airlock));
        services.AddHostedService<ApplyWorkers>();
        services.AddHostedService<ReconcilerService>();
        return services;
    }
}

/// <summary>
/// <see cref="ServerOptions.Workers"/> loops that claim apply requests from the store (any replica's) and run them
/// through the governed apply with their log recorded. Stopping the host cancels a running apply exactly as Ctrl+C
/// does in the CLI (the engine gets SIGINT, then the grace period); the request is then done with state cancelled.
/// </summary>
internal sealed partial class ApplyWorkers(ApplyDispatch dispatch, AirlockServices services, ServerOptions options, ILogger<ApplyWorkers> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(1, Math.Max(0, options.Workers)).Select(i => LoopAsync($"{options.ReplicaId}/worker-{i}", stoppingToken)));

    private async Task LoopAsync(string worker, CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var claimed = await dispatch.ClaimNextAsync(worker, stoppingToken);
                if (claimed is null)
                {
                    await Task.Delay(options.WorkerPollInterval, services.Time, stoppingToken);
                    continue;
                }

                using var scope = logger.BeginScope(new Dictionary<string, object> { ["run_id"] = claimed.RunId, ["plan_id"] = claimed.PlanId, ["worker"] = worker });
                LogClaimed(claimed.PlanId, claimed.Actor);
                var outcome = await dispatch.RunClaimedAsync(claimed, new LoggingObserver(logger), stoppingToken);

                if (outcome is null)
                {
                    LogNotStarted();
                }
                else
                {
                    LogEnded(outcome.State.WireName(), outcome.ExitCode, outcome.Statement);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (ApplyFaultException e) when (e.Completed)
            {
                // Airlock failed under the run; its request is done with that outcome and its run settled: next one.
                LogApplyFault(e.RunId, e.Outcome, e.InnerException!);
            }
            catch (Exception e)
            {
                // A store outage or a bug must not kill the worker loop: say so, wait, try again.
                LogFault(e);
                try
                {
                    await Task.Delay(options.WorkerPollInterval * 4, services.Time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "claimed the apply of {PlanId} requested by {Actor}")]
    private partial void LogClaimed(string planId, string actor);

    [LoggerMessage(Level = LogLevel.Information, Message = "apply ended {State} (exit {ExitCode}): {Statement}")]
    private partial void LogEnded(string state, int exitCode, string statement);

    [LoggerMessage(Level = LogLevel.Warning, Message = "apply did not start (see the apply request's outcome)")]
    private partial void LogNotStarted();

    [LoggerMessage(Level = LogLevel.Error, Message = "apply of run {RunId} failed inside airlock; the request is done with outcome: {Outcome}")]
    private partial void LogApplyFault(string runId, string outcome, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "apply worker fault; retrying")]
    private partial void LogFault(Exception e);

    /// <summary>Transitions and notes as structured log lines (inside the run's scope); tool output stays in the run log only.</summary>
    private sealed class LoggingObserver(ILogger logger) : IApplyObserver
    {
        public IOutputSink ToolOutput => NullOutputSink.Instance;

        public void Transition(RunTransition transition) =>
            logger.LogInformation("run {From} → {To}: {Detail}", transition.From.WireName(), transition.To.WireName(), transition.Detail);

        public void Note(string message) => logger.LogInformation("run note: {Note}", message);
    }
}

/// <summary>Runs <see cref="RunReconciler"/> periodically on every replica; passes on different replicas are safe to overlap.</summary>
internal sealed partial class ReconcilerService(RunReconciler reconciler, AirlockServices services, ServerOptions options, ILogger<ReconcilerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.ReconcileInterval ?? TimeSpan.FromTicks(Math.Clamp(options.Lease.Ticks / 4, TimeSpan.TicksPerSecond, 30 * TimeSpan.TicksPerSecond));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, services.Time, stoppingToken);
                var report = await reconciler.ReconcileOnceAsync(stoppingToken);
                if (report.Any)
                {
                    LogReconciled(string.Join(", ", report.Reconciled), string.Join(", ", report.FailedBeforeLocks), string.Join(", ", report.AbandonedRequests));
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFault(e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "reconciled work of stopped processes: needs_reconciliation [{Reconciled}], failed before locks [{Failed}], abandoned requests [{Abandoned}]")]
    private partial void LogReconciled(string reconciled, string failed, string abandoned);

    [LoggerMessage(Level = LogLevel.Error, Message = "reconciler pass failed; retrying next interval")]
    private partial void LogFault(Exception e);
}
