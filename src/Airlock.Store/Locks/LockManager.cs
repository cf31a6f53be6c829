using Airlock.Domain.Locks;
using Airlock.Domain.Storage;

namespace Airlock.Store.Locks;

/// <summary>Timing of lock waits and heartbeats.</summary>
public sealed record LockManagerOptions
{
    /// <summary>Delay between attempts while a key is held by someone else.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Renew when this fraction of the lease has passed (a third leaves two more tries before it lapses).</summary>
    public double RenewAtFraction { get; init; } = 1.0 / 3;
}

/// <summary>Thrown when a lock could not be taken within the wait; the holder is named so the user knows whom to ask.</summary>
public sealed class LockUnavailableException(LockKey key, LockLease? holder, TimeSpan waited)
    : Exception(holder is null
        ? $"lock {key.Value} unavailable after {waited.TotalSeconds:F1}s"
        : $"lock {key.Value} held by run {holder.Holder.RunId} ({holder.Holder.Actor}: {holder.Holder.Reason}) since {holder.Holder.Since:O}, expires {holder.Holder.Expires:O}; waited {waited.TotalSeconds:F1}s")
{
    /// <summary>The key that was not available.</summary>
    public LockKey Key { get; } = key;

    /// <summary>Its holder when last seen.</summary>
    public LockLease? Holder { get; } = holder;
}

/// <summary>
/// Takes sets of locks in the global order (freeze → semantic → stack → state), keeps them alive with
/// heartbeats, and releases them in reverse. All waiting and renewal timing runs on the injected TimeProvider.
/// </summary>
public sealed class LockManager(ILockStore store, TimeProvider time, LockManagerOptions? options = null)
{
    private readonly LockManagerOptions _options = options ?? new LockManagerOptions();

    /// <summary>
    /// Takes every key, waiting up to <paramref name="wait"/> in total. On timeout or cancellation the keys already
    /// taken are released (in reverse) before <see cref="LockUnavailableException"/> or cancellation surfaces.
    /// </summary>
    public async Task<LockSetHandle> AcquireAsync(IEnumerable<LockKey> keys, LockRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var ordered = LockOrder.AcquisitionOrder(keys);
        var started = time.GetTimestamp();
        var taken = new List<LockLease>(ordered.Count);
        try
        {
            foreach (var key in ordered)
            {
                while (true)
                {
                    var attempt = await store.TryAcquireAsync(key, request, cancellationToken).ConfigureAwait(false);
                    if (attempt.Lease is { } lease)
                    {
                        taken.Add(lease);
                        break;
                    }

                    var waited = time.GetElapsedTime(started);
                    if (waited >= wait)
                    {
                        throw new LockUnavailableException(key, attempt.CurrentHolder, waited);
                    }

                    var delay = TimeSpan.FromTicks(Math.Min(_options.RetryDelay.Ticks, (wait - waited).Ticks));
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            await ReleaseAllAsync(store, taken).ConfigureAwait(false);
            throw;
        }

        return new LockSetHandle(store, time, taken, request.LeaseDuration, _options);
    }

    internal static async Task ReleaseAllAsync(ILockStore store, List<LockLease> taken)
    {
        for (var i = taken.Count - 1; i >= 0; i--)
        {
            // Release must run even when the caller's token is cancelled: a held lock blocks everyone else.
            await store.ReleaseAsync(taken[i].Key, taken[i].FencingToken, CancellationToken.None).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Held locks. <see cref="LeaseLost"/> fires when any lease could not be renewed before it lapsed (or another
/// holder took it), so a running apply can stop cleanly. Dispose releases in reverse order.
/// </summary>
public sealed class LockSetHandle : IAsyncDisposable
{
    private readonly ILockStore _store;
    private readonly TimeProvider _time;
    private readonly List<LockLease> _leases;
    private readonly TimeSpan _leaseDuration;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _heartbeat;
    private int _disposed;

    internal LockSetHandle(ILockStore store, TimeProvider time, List<LockLease> leases, TimeSpan leaseDuration, LockManagerOptions options)
    {
        _store = store;
        _time = time;
        _leases = leases;
        _leaseDuration = leaseDuration;
        _heartbeat = HeartbeatAsync(TimeSpan.FromTicks((long)(leaseDuration.Ticks * options.RenewAtFraction)));
    }

    /// <summary>The held leases in acquisition order, with their fencing tokens (updated expiry after renewals).</summary>
    public IReadOnlyList<LockLease> Leases
    {
        get
        {
            lock (_leases)
            {
                return _leases.ToList();
            }
        }
    }

    /// <summary>Fires when a lease was lost; work guarded by these locks must stop.</summary>
    public CancellationToken LeaseLost => _lost.Token;

    /// <summary>The fencing token for <paramref name="key"/>.</summary>
    public long FencingToken(LockKey key) => Leases.First(l => l.Key == key).FencingToken;

    /// <summary>Stops heartbeats and releases every lease in reverse acquisition order.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await LockManager.ReleaseAllAsync(_store, Leases.ToList()).ConfigureAwait(false);
        _stop.Dispose();
        _lost.Dispose();
    }

    private async Task HeartbeatAsync(TimeSpan interval)
    {
        await Task.Yield();
        try
        {
            while (!_stop.IsCancellationRequested && !_lost.IsCancellationRequested)
            {
                await Task.Delay(interval, _time, _stop.Token).ConfigureAwait(false);
                var current = Leases;
                for (var i = 0; i < current.Count; i++)
                {
                    var lease = current[i];
                    LockLease? renewed;
                    try
                    {
                        renewed = await _store.RenewAsync(lease.Key, lease.FencingToken, _leaseDuration, _stop.Token).ConfigureAwait(false);
                    }
                    catch (Exception) when (!_stop.IsCancellationRequested)
                    {
                        // The store is unreachable: keep trying while the lease may still be valid.
                        if (_time.GetUtcNow() >= lease.Holder.Expires)
                        {
                            await _lost.CancelAsync().ConfigureAwait(false);
                            return;
                        }

                        continue;
                    }

                    if (renewed is null)
                    {
                        await _lost.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    lock (_leases)
                    {
                        _leases[i] = renewed;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }
}
