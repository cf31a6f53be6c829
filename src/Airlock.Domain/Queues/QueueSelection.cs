namespace Airlock.Domain.Queues;

/// <summary>Decides which waiting item a worker may claim next, honouring priority, FIFO and concurrency.</summary>
public static class QueueSelection
{
    /// <summary>
    /// The next item to claim, or null. <paramref name="waitingInOrder"/> must be the claimable waiting items
    /// ordered by (priority rank, id); <paramref name="claimedCountByKey"/> counts claimed items per concurrency
    /// key (the null key for unkeyed queues). An unkeyed queue at its limit claims nothing; a keyed queue skips
    /// items whose key is at its limit, so a busy service does not hold up the others.
    /// </summary>
    public static QueueItem? PickNext(QueueDefinition queue, IEnumerable<QueueItem> waitingInOrder, IReadOnlyDictionary<string, int> claimedCountByKey)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(waitingInOrder);
        ArgumentNullException.ThrowIfNull(claimedCountByKey);
        if (queue.Key is null)
        {
            var total = claimedCountByKey.Values.Sum();
            return total >= queue.Concurrency ? null : waitingInOrder.FirstOrDefault(i => i.HoldReason is null);
        }

        foreach (var item in waitingInOrder)
        {
            if (item.HoldReason is not null)
            {
                continue;
            }

            var running = claimedCountByKey.GetValueOrDefault(KeyOf(item));
            if (running < queue.Concurrency)
            {
                return item;
            }
        }

        return null;
    }

    /// <summary>The dictionary key used for an item's concurrency key ("" when unkeyed).</summary>
    public static string KeyOf(QueueItem item) => item?.ConcurrencyKey ?? string.Empty;
}
