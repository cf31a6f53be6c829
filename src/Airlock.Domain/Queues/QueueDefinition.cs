namespace Airlock.Domain.Queues;

/// <summary>Which apply requests a queue takes.</summary>
/// <param name="Environment">The environment it serves.</param>
/// <param name="Stacks">Stack names it serves; empty means every stack of the environment.</param>
public sealed record QueueMatch(string Environment, IReadOnlyList<string> Stacks);

/// <summary>What to do with a plan that expires while queued.</summary>
public enum StalePlanPolicy
{
    /// <summary>Fail the item; a new plan and approval are needed.</summary>
    Fail = 0,

    /// <summary>Re-plan and compare by material equivalence.</summary>
    Replan = 1,
}

/// <summary>
/// An apply queue (the <c>queues:</c> section of airlock.yaml, mapped from the config model).
/// When <see cref="Key"/> is set, <see cref="Concurrency"/> applies per distinct key value
/// (e.g. per service); otherwise it applies to the whole queue.
/// </summary>
/// <param name="Name">Queue name, e.g. <c>prod-network</c>.</param>
/// <param name="Match">Which items it takes.</param>
/// <param name="Concurrency">How many items may be claimed at once (per key when keyed).</param>
/// <param name="Key">Optional name of the item attribute that partitions concurrency, e.g. <c>service</c>.</param>
/// <param name="PriorityClasses">Classes from most to least urgent; empty means one class, <c>standard</c>.</param>
/// <param name="StalePlan">What happens to a plan that expires while queued.</param>
public sealed record QueueDefinition(string Name, QueueMatch Match, int Concurrency, string? Key, IReadOnlyList<string> PriorityClasses, StalePlanPolicy StalePlan)
{
    /// <summary>The class used when a queue declares none.</summary>
    public const string StandardClass = "standard";

    /// <summary>The queue of a stack that no configured queue matches: one apply at a time per environment and stack.</summary>
    public static QueueDefinition ImplicitFor(string environment, string stack) =>
        new($"{environment}/{stack}", new QueueMatch(environment, [stack]), 1, null, [], StalePlanPolicy.Fail);

    /// <summary>The effective classes, most urgent first.</summary>
    public IReadOnlyList<string> EffectivePriorityClasses => PriorityClasses.Count == 0 ? [StandardClass] : PriorityClasses;

    /// <summary>Rank of a class (0 = most urgent).</summary>
    /// <exception cref="ArgumentException">The class is not one of this queue's.</exception>
    public int PriorityRank(string priorityClass)
    {
        var index = EffectivePriorityClasses.ToList().IndexOf(priorityClass);
        return index >= 0
            ? index
            : throw new ArgumentException($"queue '{Name}' has no priority class '{priorityClass}' (has: {string.Join(", ", EffectivePriorityClasses)})");
    }

    /// <summary>Throws when the definition cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("a queue needs a name");
        }

        if (Concurrency < 1)
        {
            throw new ArgumentException($"queue '{Name}': concurrency must be at least 1, got {Concurrency}");
        }

        if (string.IsNullOrWhiteSpace(Match.Environment))
        {
            throw new ArgumentException($"queue '{Name}': match.environment is required");
        }

        if (EffectivePriorityClasses.Distinct(StringComparer.Ordinal).Count() != EffectivePriorityClasses.Count)
        {
            throw new ArgumentException($"queue '{Name}': priority classes repeat");
        }
    }
}
