using System.Collections;

namespace Airlock.Domain.Plans;

/// <summary>
/// An append-only list in fixed-size chunks. A plan's resource list grows to 100k+ entries; a
/// <see cref="List{T}"/> would double its array on the large object heap each time (about twice
/// the final size in dead arrays until a full collection, plus up to half unused at the end).
/// </summary>
internal sealed class ChunkedList<T> : IReadOnlyList<T>
{
    // 1,024 references = 8 KiB per chunk: below the large object threshold, small enough that the
    // unused tail of the last chunk does not matter.
    private const int ChunkShift = 10;
    private const int ChunkSize = 1 << ChunkShift;

    private readonly List<T[]> _chunks = [];

    public int Count { get; private set; }

    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return _chunks[index >> ChunkShift][index & (ChunkSize - 1)];
        }
    }

    public void Add(T item)
    {
        var offset = Count & (ChunkSize - 1);
        if (offset == 0)
        {
            _chunks.Add(new T[ChunkSize]);
        }

        _chunks[^1][offset] = item;
        Count++;
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return _chunks[i >> ChunkShift][i & (ChunkSize - 1)];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
