namespace Airlock.Domain.Locks;

/// <summary>
/// The one global order for taking several locks (freeze → semantic → stack → state, then by name),
/// released in reverse. Because every run follows it, no two runs can wait on each other in a cycle.
/// </summary>
public static class LockOrder
{
    /// <summary>Orders by kind (freeze → semantic → stack → state), then by name ordinally.</summary>
    public static IComparer<LockKey> Comparer { get; } = Comparer<LockKey>.Create((a, b) =>
    {
        var byKind = a.Kind.CompareTo(b.Kind);
        return byKind != 0 ? byKind : string.CompareOrdinal(a.Name, b.Name);
    });

    /// <summary>The keys without duplicates, in acquisition order.</summary>
    public static IReadOnlyList<LockKey> AcquisitionOrder(IEnumerable<LockKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys.Distinct().Order(Comparer).ToList();
    }

    /// <summary>The keys without duplicates, in release order (the reverse of acquisition).</summary>
    public static IReadOnlyList<LockKey> ReleaseOrder(IEnumerable<LockKey> keys)
    {
        var order = AcquisitionOrder(keys).ToList();
        order.Reverse();
        return order;
    }
}
