using Airlock.Domain.Locks;

namespace Airlock.Domain.Queues;

/// <summary>A claimed item as shown to people.</summary>
/// <param name="Item">The item.</param>
/// <param name="RunningFor">How long since it was claimed.</param>
public sealed record CurrentQueueEntry(QueueItem Item, TimeSpan RunningFor);

/// <summary>A claimed item whose claim lease lapsed: its claimer stopped renewing it (crashed or hung).</summary>
/// <param name="Item">The item, still in state claimed.</param>
/// <param name="AbandonedAt">When its lease lapsed.</param>
public sealed record AbandonedQueueEntry(QueueItem Item, DateTimeOffset AbandonedAt)
{
    /// <summary>e.g. "abandoned by pid-4242 at 2026-11-25T20:00:00Z".</summary>
    public string Description => $"abandoned by {Item.ClaimedBy} at {AbandonedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>A waiting item as shown to people.</summary>
/// <param name="Item">The item.</param>
/// <param name="Position">1-based place in line (priority, then FIFO).</param>
/// <param name="Age">How long it has waited.</param>
/// <param name="BlockedReason">Why it is not running yet.</param>
public sealed record WaitingQueueEntry(QueueItem Item, int Position, TimeSpan Age, string BlockedReason);

/// <summary>One queue's current and waiting items.</summary>
/// <param name="Queue">Queue name.</param>
/// <param name="Concurrency">Its limit (per key when keyed); null when its definition was not supplied.</param>
/// <param name="Key">Its concurrency key, if any.</param>
/// <param name="Current">Claimed items whose claim is alive.</param>
/// <param name="Waiting">Waiting items in line order.</param>
/// <param name="Abandoned">Claimed items whose claim lease lapsed; they no longer take a slot.</param>
public sealed record QueueView(string Queue, int? Concurrency, string? Key, IReadOnlyList<CurrentQueueEntry> Current, IReadOnlyList<WaitingQueueEntry> Waiting, IReadOnlyList<AbandonedQueueEntry> Abandoned);

/// <summary>Builds what `airlock queue` and the dashboard show: current items, waiting items with position, age and blocked reason.</summary>
public static class QueueBoard
{
    /// <summary>
    /// Groups active items by queue. <paramref name="definitions"/> gives limits (for a queue seen only in items the
    /// limit is unknown and not used to explain waits); <paramref name="locks"/> explains waits on held locks and freezes.
    /// </summary>
    public static IReadOnlyList<QueueView> Build(IEnumerable<QueueItem> activeItems, IReadOnlyList<QueueDefinition> definitions, IReadOnlyList<LockLease> locks, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(activeItems);
        ArgumentNullException.ThrowIfNull(definitions);
        ArgumentNullException.ThrowIfNull(locks);
        var locksByKey = locks.Where(l => !l.IsExpiredAt(now)).ToDictionary(l => l.Key);
        var views = new List<QueueView>();
        foreach (var group in activeItems.GroupBy(i => i.Queue, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var definition = definitions.FirstOrDefault(d => d.Name == group.Key) ?? ImplicitDefinition(group);
            var current = group.Where(i => i.State == QueueItemState.Claimed && !i.IsAbandonedAt(now)).OrderBy(i => i.Id).ToList();
            var abandoned = group.Where(i => i.IsAbandonedAt(now)).OrderBy(i => i.Id).Select(i => new AbandonedQueueEntry(i, i.ClaimedUntil!.Value)).ToList();
            var waiting = group.Where(i => i.State == QueueItemState.Waiting).OrderBy(i => i.PriorityRank).ThenBy(i => i.Id).ToList();
            var claimedByKey = current.GroupBy(QueueSelection.KeyOf).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var next = definition is null ? null : QueueSelection.PickNext(definition, waiting, claimedByKey);
            var entries = waiting.Select((item, index) => new WaitingQueueEntry(
                item,
                index + 1,
                now - item.EnqueuedAt,
                BlockedReason(item, definition, current, claimedByKey, locksByKey, isNext: ReferenceEquals(item, next)))).ToList();
            views.Add(new QueueView(
                group.Key,
                definition?.Concurrency,
                definition?.Key,
                current.Select(i => new CurrentQueueEntry(i, now - (i.ClaimedAt ?? i.EnqueuedAt))).ToList(),
                entries,
                abandoned));
        }

        return views;
    }

    // A stack no configured queue matches queues alone, under "<environment>/<stack>" with a limit of one.
    private static QueueDefinition? ImplicitDefinition(IGrouping<string, QueueItem> group)
    {
        var first = group.First();
        var implicitQueue = QueueDefinition.ImplicitFor(first.Environment, first.Stack);
        return group.All(i => i.Queue == implicitQueue.Name && i.Environment == first.Environment && i.Stack == first.Stack) ? implicitQueue : null;
    }

    private static string BlockedReason(QueueItem item, QueueDefinition? definition, List<QueueItem> current, Dictionary<string, int> claimedByKey, Dictionary<LockKey, LockLease> locks, bool isNext)
    {
        // The most actionable reason first: a freeze or a held lock needs a person; a full queue just needs time.
        foreach (var key in LockOrder.AcquisitionOrder(item.RequiredLocks))
        {
            if (locks.TryGetValue(key, out var lease) && lease.Holder.RunId != item.RunId)
            {
                return key.Kind == LockKind.Freeze
                    ? $"freeze {key.Value} by {lease.Holder.Actor}: {lease.Holder.Reason}"
                    : $"lock {key.Value} held by run {lease.Holder.RunId} ({lease.Holder.Actor}: {lease.Holder.Reason})";
            }
        }

        if (item.HoldReason is not null)
        {
            return item.HoldReason;
        }

        if (definition is null)
        {
            return "waiting (queue limits not loaded)";
        }

        if (definition.Key is null && current.Count >= definition.Concurrency)
        {
            return $"queue at concurrency limit ({current.Count}/{definition.Concurrency}), running: {string.Join(", ", current.Select(c => c.RunId))}";
        }

        if (definition.Key is not null && claimedByKey.GetValueOrDefault(QueueSelection.KeyOf(item)) >= definition.Concurrency)
        {
            return $"{definition.Key} '{item.ConcurrencyKey}' at concurrency limit ({definition.Concurrency})";
        }

        return isNext ? "ready: next to be claimed" : "behind earlier items";
    }
}
