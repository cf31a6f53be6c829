using Airlock.Application;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Runs;

using Prometheus;

namespace Airlock.Server.Metrics;

/// <summary>
/// Airlock's own metrics, read from the store at scrape time (nothing in-process is authoritative: with several
/// replicas on one database every replica reports the same figures). Registered on the host's own
/// <see cref="CollectorRegistry"/>, so several replicas in one process never share or clash.
/// </summary>
public sealed class StoreMetrics
{
    /// <summary>Runs counted in the apply-duration figures: those that reached an end after starting work.</summary>
    public static readonly IReadOnlyList<string> FinishedStates =
        [RunState.Succeeded.WireName(), RunState.Failed.WireName(), RunState.Cancelled.WireName(), RunState.NeedsReconciliation.WireName()];

    /// <summary>Upper bounds (seconds) of the apply-duration buckets.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [5, 15, 30, 60, 120, 300, 600, 1800, 3600];

    /// <summary>How far back the apply-duration figures look.</summary>
    public static readonly TimeSpan DurationWindow = TimeSpan.FromDays(7);

    private readonly AirlockServices _services;
    private readonly Gauge _runs;
    private readonly Gauge _failures;
    private readonly Gauge _queueDepth;
    private readonly Gauge _queueWaitMax;
    private readonly Gauge _queueWaitSum;
    private readonly Gauge _locksHeld;
    private readonly Gauge _locksExpired;
    private readonly Gauge _lockWait;
    private readonly Gauge _durationBuckets;
    private readonly Gauge _durationCount;
    private readonly Gauge _durationSum;
    private readonly HashSet<string[]> _seenFailureLabels = new(LabelComparer.Instance);
    private readonly HashSet<string[]> _seenQueueLabels = new(LabelComparer.Instance);
    private readonly HashSet<string[]> _seenLockLabels = new(LabelComparer.Instance);

    /// <summary>Creates the metric families on <paramref name="registry"/> and refreshes them before every scrape.</summary>
    public StoreMetrics(AirlockServices services, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _services = services;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _runs = factory.CreateGauge("airlock_runs", "Runs by state (all time).", "state");
        _failures = factory.CreateGauge("airlock_run_failures", "Runs that ended with a failure, by failure class (all time).", "class");
        _queueDepth = factory.CreateGauge("airlock_queue_depth", "Queue items by queue and state (running, waiting, abandoned).", "queue", "state");
        _queueWaitMax = factory.CreateGauge("airlock_queue_wait_max_seconds", "How long the longest-waiting item of a queue has waited.", "queue");
        _queueWaitSum = factory.CreateGauge("airlock_queue_wait_sum_seconds", "Total wait of the waiting items of a queue.", "queue");
        _locksHeld = factory.CreateGauge("airlock_locks_held", "Held locks by kind (freeze, semantic, stack, state).", "kind");
        _locksExpired = factory.CreateGauge("airlock_locks_expired", "Held locks whose lease has lapsed (their run needs reconciliation once taken).");
        _lockWait = factory.CreateGauge("airlock_lock_wait_seconds", "How long the run waiting longest for its locks has waited (0 when none waits).");
        _durationBuckets = factory.CreateGauge("airlock_apply_duration_seconds_le", "Finished runs of the last 7 days whose duration (request to end) is at most le seconds (cumulative, as histogram buckets).", "le");
        _durationCount = factory.CreateGauge("airlock_apply_duration_seconds_count", "Finished runs of the last 7 days.");
        _durationSum = factory.CreateGauge("airlock_apply_duration_seconds_sum", "Total duration of the finished runs of the last 7 days.");
        registry.AddBeforeCollectCallback(RefreshAsync);
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var store = _services.Store;
        var now = _services.Time.GetUtcNow();
        var statistics = await store.Runs.StatisticsAsync(FinishedStates, now - DurationWindow, DurationBuckets, cancellationToken);
        foreach (var state in Enum.GetValues<RunState>())
        {
            _runs.WithLabels(state.WireName()).Set(statistics.ByState.GetValueOrDefault(state.WireName()));
        }

        SetAll(_failures, _seenFailureLabels, statistics.FailuresByClass.Select(f => (new[] { f.Key }, (double)f.Value)));

        var lockWaitState = RunState.AcquiringLocks.WireName();
        _lockWait.Set(statistics.OldestUpdateByState.TryGetValue(lockWaitState, out var since) ? Math.Max(0, (now - since).TotalSeconds) : 0);

        foreach (var (bound, count) in statistics.Durations.Buckets)
        {
            _durationBuckets.WithLabels(bound.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(count);
        }

        _durationBuckets.WithLabels("+Inf").Set(statistics.Durations.Count);
        _durationCount.Set(statistics.Durations.Count);
        _durationSum.Set(statistics.Durations.SumSeconds);

        var items = await store.Queues.ListActiveAsync(cancellationToken);
        var locks = await store.Locks.ListAsync(cancellationToken);
        var board = QueueBoard.Build(items, QueueDefinitions.From(_services.Workspace.Config), locks, now);
        var depth = new List<(string[], double)>();
        foreach (var view in board)
        {
            depth.Add(([view.Queue, "running"], view.Current.Count));
            depth.Add(([view.Queue, "waiting"], view.Waiting.Count));
            depth.Add(([view.Queue, "abandoned"], view.Abandoned.Count));
            _queueWaitMax.WithLabels(view.Queue).Set(view.Waiting.Count == 0 ? 0 : view.Waiting.Max(w => w.Age.TotalSeconds));
            _queueWaitSum.WithLabels(view.Queue).Set(view.Waiting.Sum(w => w.Age.TotalSeconds));
        }

        SetAll(_queueDepth, _seenQueueLabels, depth);
        SetAll(_locksHeld, _seenLockLabels, locks.GroupBy(l => l.Key.Kind).Select(g => (new[] { g.Key.ToString().ToLowerInvariant() }, (double)g.Count())));
        _locksExpired.Set(locks.Count(l => l.IsExpiredAt(now)));
    }

    // A series seen before and absent now reads 0 rather than keeping its last value.
    private static void SetAll(Gauge gauge, HashSet<string[]> seen, IEnumerable<(string[] Labels, double Value)> values)
    {
        var current = new HashSet<string[]>(LabelComparer.Instance);
        foreach (var (labels, value) in values)
        {
            gauge.WithLabels(labels).Set(value);
            current.Add(labels);
            seen.Add(labels);
        }

        foreach (var labels in seen.Where(l => !current.Contains(l)))
        {
            gauge.WithLabels(labels).Set(0);
        }
    }

    private sealed class LabelComparer : IEqualityComparer<string[]>
    {
        public static readonly LabelComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.SequenceEqual(y, StringComparer.Ordinal);

        public int GetHashCode(string[] obj) => string.Join('\u001f', obj).GetHashCode(StringComparison.Ordinal);
    }
}
