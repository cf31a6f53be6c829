using Airlock.Domain.Queues;
using Airlock.Domain.Storage;

namespace Airlock.Store.Queues;

/// <summary>
/// Keeps one claimed queue item's lease alive with heartbeats for as long as its run lives, so only a claimer that
/// died or hung loses its slot. <see cref="ClaimLost"/> fires when the lease could not be renewed before it lapsed.
/// Dispose stops the heartbeats (it does not complete the item).
/// </summary>
public sealed class QueueClaimKeeper : IAsyncDisposable
{
    private readonly IQueueStore _store;
    private readonly TimeProvider _time;
    private readonly long _itemId;
    private readonly string _claimer;
    private readonly TimeSpan _lease;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _heartbeat;
    private DateTimeOffset _claimedUntil;
    private int _disposed;

    private QueueClaimKeeper(IQueueStore store, TimeProvider time, QueueItem claimed, TimeSpan lease, double renewAtFraction)
    {
        _store = store;
        _time = time;
        _itemId = claimed.Id;
        _claimer = claimed.ClaimedBy!;
        _lease = lease;
        _claimedUntil = claimed.ClaimedUntil!.Value;
        _heartbeat = HeartbeatAsync(TimeSpan.FromTicks((long)(lease.Ticks * renewAtFraction)));
    }

    /// <summary>Fires when the claim's lease lapsed or was no longer this claimer's.</summary>
    public CancellationToken ClaimLost => _lost.Token;

    /// <summary>
    /// Starts renewing <paramref name="claimed"/> (as returned by a claim) every <paramref name="renewAtFraction"/> of
    /// <paramref name="lease"/>; a third leaves two more tries before it lapses, as for lock leases.
    /// </summary>
    public static QueueClaimKeeper Start(IQueueStore store, TimeProvider time, QueueItem claimed, TimeSpan lease, double renewAtFraction = 1.0 / 3)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(claimed);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        if (claimed.State != QueueItemState.Claimed || claimed.ClaimedBy is null || claimed.ClaimedUntil is null)
        {
            throw new ArgumentException($"queue item {claimed.Id} is not a leased claim", nameof(claimed));
        }

        return new QueueClaimKeeper(store, time, claimed, lease, renewAtFraction);
    }

    /// <summary>Stops the heartbeats.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _lost.Dispose();
    }

    private async Task HeartbeatAsync(TimeSpan interval)
    {
        await Task.Yield();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(interval, _time, _stop.Token).ConfigureAwait(false);
                var now = _time.GetUtcNow();
                bool renewed;
                try
                {
                    renewed = await _store.RenewClaimAsync(_itemId, _claimer, _lease, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception) when (!_stop.IsCancellationRequested)
                {
                    // The store is unreachable: keep trying while the lease may still be valid.
                    if (_time.GetUtcNow() < _claimedUntil)
                    {
                        continue;
                    }

                    renewed = false;
                }

                if (!renewed)
                {
                    await _lost.CancelAsync().ConfigureAwait(false);
                    return;
                }

                _claimedUntil = now + _lease;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }
}
