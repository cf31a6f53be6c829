using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Airlock.Domain.Plans;

internal sealed partial class TerraformPlanReader
{
    /// <summary>What the reading thread found in one resource_change; ranges are relative to its copied change object.</summary>
    private readonly struct PendingResource
    {
        public string Address { get; init; }

        public string Type { get; init; }

        public ResourceMode Mode { get; init; }

        public PlanAction Action { get; init; }

        public ReplaceOrder? Order { get; init; }

        public string? Provider { get; init; }

        public string? Module { get; init; }

        public string? Previous { get; init; }

        public string? Deposed { get; init; }

        public string? Reason { get; init; }

        public Range Before { get; init; }

        public Range After { get; init; }

        public Range ReplacePaths { get; init; }

        public Range Importing { get; init; }
    }

    /// <summary>
    /// Uses the second core: the reading thread only tokenises resource_changes and queues each
    /// resource with a copy of its change object; one worker thread builds the value DOMs, diffs
    /// and risks (about half the CPU of a pass) in artifact order, so results need no reordering.
    /// Batches are recycled, so the copies cost a few hundred KiB whatever the plan size.
    /// </summary>
    private sealed class ResourcePipeline : IDisposable
    {
        private const int Batches = 4;
        private const int BatchItems = 256;
        private const int BatchBytes = 96 * 1024;

        private readonly TerraformPlanReader _owner;
        private readonly BlockingCollection<Batch> _full = new(Batches);
        private readonly BlockingCollection<Batch> _free = new(Batches);
        private readonly Task _worker;
        private Batch _current = new();
        private ExceptionDispatchInfo? _error;

        public ResourcePipeline(TerraformPlanReader owner)
        {
            _owner = owner;
            for (var i = 1; i < Batches; i++)
            {
                _free.Add(new Batch());
            }

            _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        public void Add(in PendingResource resource, ReadOnlySpan<byte> change)
        {
            _current.Add(resource, change);
            if (_current.Count == BatchItems || _current.Used >= BatchBytes)
            {
                _full.Add(_current);
                _current = _free.Take();
            }
        }

        /// <summary>Waits until every queued resource is in the summary; rethrows what the worker threw.</summary>
        public void Finish()
        {
            if (_current.Count > 0)
            {
                _full.Add(_current);
            }

            _full.CompleteAdding();
            _worker.GetAwaiter().GetResult();
            _error?.Throw();
        }

        public void Dispose()
        {
            // After a parse error on the reading thread: let the worker drain before the reader's state goes.
            if (!_full.IsAddingCompleted)
            {
                _full.CompleteAdding();
            }

            _worker.GetAwaiter().GetResult();
            _full.Dispose();
            _free.Dispose();
        }

        private void Work()
        {
            foreach (var batch in _full.GetConsumingEnumerable())
            {
                if (_error is null)
                {
                    try
                    {
                        for (var i = 0; i < batch.Count; i++)
                        {
                            _owner.Complete(batch.Items[i], batch.Change(i));
                        }
                    }
                    catch (Exception e)
                    {
                        // Keep draining, so the reading thread never waits on a dead worker.
                        _error = ExceptionDispatchInfo.Capture(e);
                    }
                }

                batch.Clear();
                _free.Add(batch);
            }
        }
    }

    private sealed class Batch
    {
        private readonly int[] _starts = new int[256];
        private readonly int[] _lengths = new int[256];
        private byte[] _bytes = new byte[128 * 1024];

        public PendingResource[] Items { get; } = new PendingResource[256];

        public int Count { get; private set; }

        public int Used { get; private set; }

        public void Add(in PendingResource resource, ReadOnlySpan<byte> change)
        {
            if (Used + change.Length > _bytes.Length)
            {
                // One change object larger than a batch: grow, it is materialised anyway.
                Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Used + change.Length));
            }

            change.CopyTo(_bytes.AsSpan(Used));
            Items[Count] = resource;
            _starts[Count] = Used;
            _lengths[Count] = change.Length;
            Used += change.Length;
            Count++;
        }

        public ReadOnlyMemory<byte> Change(int index) => new(_bytes, _starts[index], _lengths[index]);

        public void Clear()
        {
            Array.Clear(Items, 0, Count);
            Count = 0;
            Used = 0;
        }
    }
}
