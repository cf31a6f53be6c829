using Airlock.Domain.Config;

namespace Airlock.Domain.Queues;

/// <summary>Maps the <c>queues:</c> section of airlock.yaml to the definitions the store and the queue board use.</summary>
public static class QueueDefinitions
{
    /// <summary>The workspace's queues in declaration order (order breaks ties in <see cref="QueueMatcher"/>).</summary>
    public static IReadOnlyList<QueueDefinition> From(WorkspaceConfig config) =>
    [
        .. config.Queues.Select(q => new QueueDefinition(
            q.Name,
            new QueueMatch(q.MatchEnvironment ?? throw new ArgumentException($"queue '{q.Name}' has no match.environment"), q.MatchStacks is { } stacks ? [.. stacks] : []),
            q.Concurrency,
            q.Key,
            [.. q.PriorityClasses],
            q.StalePlan == StalePlanAction.Fail ? StalePlanPolicy.Fail : StalePlanPolicy.Replan)),
    ];
}
