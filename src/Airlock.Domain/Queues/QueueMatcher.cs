namespace Airlock.Domain.Queues;

/// <summary>Finds the queue an apply request belongs to.</summary>
public static class QueueMatcher
{
    /// <summary>
    /// The queue for (<paramref name="environment"/>, <paramref name="stack"/>), or null when none matches.
    /// A queue that names the stack beats one that takes the whole environment; ties go to the first declared,
    /// so <c>prod-network</c> takes the network stack even though <c>prod-apps</c> takes all of prod.
    /// </summary>
    public static QueueDefinition? Match(IReadOnlyList<QueueDefinition> queues, string environment, string stack)
    {
        ArgumentNullException.ThrowIfNull(queues);
        QueueDefinition? environmentWide = null;
        foreach (var queue in queues)
        {
            if (!string.Equals(queue.Match.Environment, environment, StringComparison.Ordinal))
            {
                continue;
            }

            if (queue.Match.Stacks.Count == 0)
            {
                environmentWide ??= queue;
            }
            else if (queue.Match.Stacks.Contains(stack, StringComparer.Ordinal))
            {
                return queue;
            }
        }

        return environmentWide;
    }
}
