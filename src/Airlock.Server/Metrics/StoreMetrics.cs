using Airlock.Application;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

using Prometheus;

namespace Airlock.Server.Metrics;

/// <summary>
/// Airlock's own metrics, read from the store at scrape time (nothing in-process is authoritative: with several
/// replicas on one database every replica reports the same figures). Gauges live on the host's own
/// <see cref="CollectorRegistry"/>, so several replicas in one process never share or clash. The duration histograms are
/// recomputed from the run events on each scrape, which prometheus-net's own histogram (an in-process accumulator) cannot
/// express, so <see cref="WriteAsync"/> writes them itself after the registry's families, in the same text format.
/// </summary>
public sealed class StoreMetrics : IDisposable
{
    /// <summary>Upper bounds (seconds) of the duration histograms' buckets.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    /// <summary>How far back the duration histograms look (runs created within it).</summary>
    public static readonly TimeSpan DurationWindow = TimeSpan.FromDays(7);

    /// <summary>The media type of the Prometheus text format that <see cref="WriteAsync"/> writes.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string WindowNote = "runs created in the last 7 days, recomputed from the run events on each scrape";

    private readonly AirlockServices _services;
    private readonly CollectorRegistry _registry;
    private readonly Gauge _runs;
    private readonly Gauge _failures;
    private readonly Gauge _queueDepth;
    private readonly Gauge _queueWaitingOldest;
    private readonly Gauge _queueWaitingTotal;
    private readonly Gauge _locksHeld;
    private readonly Gauge _locksExpired;
    private readonly Gauge _lockWaitingOldest;
    private readonly HashSet<string[]> _seenFailureLabels = new(LabelComparer.Instance);
    private readonly HashSet<string[]> _seenQueueLabels = new(LabelComparer.Instance);
    private readonly HashSet<string[]> _seenLockLabels = new(LabelComparer.Instance);
    private readonly SemaphoreSlim _scrape = new(1, 1);
    private readonly TimeSpan _reuse;
    private byte[]? _lastText;
    private DateTimeOffset _lastAt;

    /// <summary>
    /// Creates the gauge families on <paramref name="registry"/>; <see cref="WriteAsync"/> reads the store again once the last
    /// scrape's text is older than <paramref name="reuse"/> (zero: on every scrape).
    /// </summary>
    public StoreMetrics(AirlockServices services, CollectorRegistry registry, TimeSpan reuse)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _services = services;
        _registry = registry;
        _reuse = reuse;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _runs = factory.CreateGauge("airlock_runs", "Runs by state (all time).", "state");
        _failures = factory.CreateGauge("airlock_run_failures", "Runs that ended with a failure, by failure class (all time).", "class");
        _queueDepth = factory.CreateGauge("airlock_queue_depth", "Queue items now, by queue and state (running, waiting, abandoned).", "queue", "state");
        _queueWaitingOldest = factory.CreateGauge("airlock_queue_waiting_oldest_seconds", "How long the item of a queue waiting longest now has waited (0 when none waits).", "queue");
        _queueWaitingTotal = factory.CreateGauge("airlock_queue_waiting_total_seconds", "Sum of how long each item waiting in a queue now has waited.", "queue");
        _locksHeld = factory.CreateGauge("airlock_locks_held", "Held locks now, by kind (freeze, semantic, stack, state).", "kind");
        _locksExpired = factory.CreateGauge("airlock_locks_expired", "Held locks whose lease has lapsed (their run needs reconciliation once taken).");
        _lockWaitingOldest = factory.CreateGauge("airlock_lock_waiting_oldest_seconds", "How long the run in acquiring_locks longest now has been there (0 when none is).");
    }

    /// <summary>
    /// Writes every family (registry and histograms) to <paramref name="output"/>: the last scrape's text while it is younger
    /// than the reuse interval, else read afresh from the store. The histograms scan a week of run events (hundreds of
    /// milliseconds with 10,000 runs), so scrapers that come close together (an HA Prometheus pair, a dashboard) share one read.
    /// </summary>
    public async Task WriteAsync(Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        // One scrape at a time per replica: the gauges are shared, and two refreshes interleaving could mix their figures.
        await _scrape.WaitAsync(cancellationToken);
        try
        {
            var now = _services.Time.GetUtcNow();
            if (_lastText is null || now - _lastAt >= _reuse || now < _lastAt)
            {
                using var buffer = new MemoryStream();
                await RenderAsync(buffer, cancellationToken);
                _lastText = buffer.ToArray();
                _lastAt = now;
            }

            await output.WriteAsync(_lastText, cancellationToken);
        }
        finally
        {
            _scrape.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _scrape.Dispose();

    private async Task RenderAsync(Stream output, CancellationToken cancellationToken)
    {
        var statistics = await RefreshAsync(cancellationToken);
        await _registry.CollectAndExportAsTextAsync(output, cancellationToken);
        var text = new System.Text.StringBuilder();
        AppendHistogram(text, "airlock_apply_duration_seconds",
            $"Seconds from a run entering applying to its end (succeeded, failed or cancelled; applying, verifying and publishing), {WindowNote}. Runs whose outcome is unknown (needs_reconciliation) have no end and are not counted.",
            statistics.ApplyDurations);
        AppendHistogram(text, "airlock_queue_wait_seconds",
            $"Seconds a run waited in its apply queue before it was claimed (queued to acquiring_locks), {WindowNote}. Items waiting now are in airlock_queue_waiting_oldest_seconds.",
            statistics.QueueWaits);
        AppendHistogram(text, "airlock_lock_wait_seconds",
            $"Seconds a run spent taking its locks (acquiring_locks to the next state, whether it got them or gave up), {WindowNote}. Runs waiting now are in airlock_lock_waiting_oldest_seconds.",
            statistics.LockWaits);
        await output.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
    }

    private async Task<RunStatistics> RefreshAsync(CancellationToken cancellationToken)
    {
        var store = _services.Store;
        var now = _services.Time.GetUtcNow();
        var statistics = await store.Runs.StatisticsAsync(now - DurationWindow, DurationBuckets, cancellationToken);
        foreach (var state in Enum.GetValues<RunState>())
        {
            _runs.WithLabels(state.WireName()).Set(statistics.ByState.GetValueOrDefault(state.WireName()));
        }

        SetAll(_failures, _seenFailureLabels, statistics.FailuresByClass.Select(f => (new[] { f.Key }, (double)f.Value)));

        // A run waiting for its locks appends nothing until it has them, so its last event is when it started waiting.
        var lockWaitState = RunState.AcquiringLocks.WireName();
        _lockWaitingOldest.Set(statistics.OldestUpdateByState.TryGetValue(lockWaitState, out var since) ? Math.Max(0, (now - since).TotalSeconds) : 0);

        var items = await store.Queues.ListActiveAsync(cancellationToken);
        var locks = await store.Locks.ListAsync(cancellationToken);
        var board = QueueBoard.Build(items, QueueDefinitions.From(_services.Workspace.Config), locks, now);
        var depth = new List<(string[], double)>();
        foreach (var view in board)
        {
            depth.Add(([view.Queue, "running"], view.Current.Count));
            depth.Add(([view.Queue, "waiting"], view.Waiting.Count));
            depth.Add(([view.Queue, "abandoned"], view.Abandoned.Count));
            _queueWaitingOldest.WithLabels(view.Queue).Set(view.Waiting.Count == 0 ? 0 : view.Waiting.Max(w => w.Age.TotalSeconds));
            _queueWaitingTotal.WithLabels(view.Queue).Set(view.Waiting.Sum(w => w.Age.TotalSeconds));
        }

        SetAll(_queueDepth, _seenQueueLabels, depth);
        SetAll(_locksHeld, _seenLockLabels, locks.GroupBy(l => l.Key.Kind).Select(g => (new[] { g.Key.ToString().ToLowerInvariant() }, (double)g.Count())));
        _locksExpired.Set(locks.Count(l => l.IsExpiredAt(now)));
        return statistics;
    }

    // The Prometheus text format of a histogram: cumulative _bucket{le} series ending at +Inf, then _sum and _count.
    private static void AppendHistogram(System.Text.StringBuilder text, string name, string help, RunDurationStatistics values)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        text.Append(invariant, $"# HELP {name} {help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\n");
        text.Append(invariant, $"# TYPE {name} histogram\n");
        foreach (var (bound, count) in values.Buckets)
        {
            text.Append(invariant, $"{name}_bucket{{le=\"{bound.ToString(invariant)}\"}} {count}\n");
        }

        text.Append(invariant, $"{name}_bucket{{le=\"+Inf\"}} {values.Count}\n");
        text.Append(invariant, $"{name}_sum {values.SumSeconds.ToString(invariant)}\n");
        text.Append(invariant, $"{name}_count {values.Count}\n");
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
