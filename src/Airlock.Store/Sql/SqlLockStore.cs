using System.Data.Common;

using Airlock.Domain.Locks;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>
/// Lease locks shared by both backends. Every operation on a key first locks that key's row in
/// <c>lock_fences</c> (created on first use, never deleted), which both serialises contenders per key on
/// PostgreSQL and carries the fencing counter that must never go backwards.
/// </summary>
internal sealed class SqlLockStore(SqlContext context) : ILockStore
{
    private const string LeaseColumns = "lock_key, run_id, actor, reason, since, expires, fencing_token";

    public async Task<LockAttempt> TryAcquireAsync(LockKey key, LockRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var free = await TryAcquireFreeAsync(connection, key, request, cancellationToken).ConfigureAwait(false);
        if (free is not null)
        {
            return new LockAttempt(free, null, null);
        }

        // The key has a lease row: decide held vs lapsed under the fence lock, reconciling a lapsed holder.
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        // Bumping the counter locks the key's fence row (PostgreSQL) and yields this attempt's token in one round
        // trip; when the key turns out to be held, the rollback undoes the bump.
        var token = await NextFenceAsync(connection, transaction, key, cancellationToken).ConfigureAwait(false);
        // Read the clock only once the key is ours to decide on, so a long wait for the row does not use a stale "now".
        var now = context.Time.GetUtcNow();
        var existing = await ReadLeaseAsync(connection, transaction, key, cancellationToken).ConfigureAwait(false);
        if (existing is not null && !existing.IsExpiredAt(now))
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return new LockAttempt(null, existing, null);
        }

        if (existing is not null)
        {
            // Nothing is released automatically: the lapsed holder may still be mutating, so its run must be reconciled.
            await SqlRunStore.MarkForReconciliationAsync(context, connection, transaction, existing.Holder.RunId, now, null,
                $"lease on {key.Value} (token {existing.FencingToken}) expired at {existing.Holder.Expires:O}; taken by run {request.RunId} with token {token}", cancellationToken).ConfigureAwait(false);
        }

        var lease = new LockLease(key, new LockHolder(request.RunId, request.Actor, request.Reason, Truncate(now), Truncate(now + request.LeaseDuration)), token);
        await connection.ExecuteAsync(transaction,
            $"""
            INSERT INTO locks ({LeaseColumns}) VALUES (@k, @run, @actor, @reason, @since, @expires, @t)
            ON CONFLICT (lock_key) DO UPDATE SET run_id = @run, actor = @actor, reason = @reason, since = @since, expires = @expires, fencing_token = @t
            """, cancellationToken,
            ("@k", key.Value), ("@run", request.RunId), ("@actor", request.Actor), ("@reason", request.Reason),
            ("@since", Db.Ms(now)), ("@expires", Db.Ms(now + request.LeaseDuration)), ("@t", token)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new LockAttempt(lease, null, existing);
    }

    public async Task<LockLease?> RenewAsync(LockKey key, long fencingToken, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        // One statement: only the holder of this token may extend, and only before the lease lapsed (after that
        // another run may already have been told the key is free).
        var rows = await connection.QueryAsync(null,
            $"UPDATE locks SET expires = @expires WHERE lock_key = @k AND fencing_token = @t AND expires > @now RETURNING {LeaseColumns}",
            ReadLease, cancellationToken, ("@expires", Db.Ms(now + leaseDuration)), ("@k", key.Value), ("@t", fencingToken), ("@now", Db.Ms(now))).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<bool> ReleaseAsync(LockKey key, long fencingToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null, "DELETE FROM locks WHERE lock_key = @k AND fencing_token = @t", cancellationToken, ("@k", key.Value), ("@t", fencingToken)).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<LockLease>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var leases = await connection.QueryAsync(null, $"SELECT {LeaseColumns} FROM locks", ReadLease, cancellationToken).ConfigureAwait(false);
        return leases.Order(LockOrder.Comparer.ToLeaseComparer()).ToList();
    }

    public async Task<long> LastFencingTokenAsync(LockKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var value = await connection.ScalarAsync(null, "SELECT last_token FROM lock_fences WHERE lock_key = @k", cancellationToken, ("@k", key.Value)).ConfigureAwait(false);
        return value is null ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<LockLease?> ForceUnlockAsync(LockKey key, string actor, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrWhiteSpace(actor) || string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("force-unlock needs an actor and a reason");
        }

        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await LockFenceAsync(connection, transaction, key, cancellationToken).ConfigureAwait(false);
        var now = context.Time.GetUtcNow();
        var existing = await ReadLeaseAsync(connection, transaction, key, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        await connection.ExecuteAsync(transaction, "DELETE FROM locks WHERE lock_key = @k", cancellationToken, ("@k", key.Value)).ConfigureAwait(false);
        await SqlRunStore.MarkForReconciliationAsync(context, connection, transaction, existing.Holder.RunId, now, actor,
            $"force-unlocked {key.Value} (token {existing.FencingToken}, held by {existing.Holder.Actor} since {existing.Holder.Since:O}): {reason}", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return existing;
    }

    public async Task<bool> ReconcileLapsedAsync(LockKey key, long fencingToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await LockFenceAsync(connection, transaction, key, cancellationToken).ConfigureAwait(false);
        var now = context.Time.GetUtcNow();
        var existing = await ReadLeaseAsync(connection, transaction, key, cancellationToken).ConfigureAwait(false);
        if (existing is null || existing.FencingToken != fencingToken || !existing.IsExpiredAt(now))
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        var state = (string?)await connection.ScalarAsync(transaction, "SELECT state FROM runs WHERE id = @id" + context.Dialect.ForUpdate, cancellationToken, ("@id", existing.Holder.RunId)).ConfigureAwait(false);
        if (state is null || state == RunState.NeedsReconciliation.WireName() || RunStates.ParseWireName(state).IsFinal())
        {
            // Already reconciled, or the holder ended and only its release is pending: nothing to say again.
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        await SqlRunStore.MarkForReconciliationAsync(context, connection, transaction, existing.Holder.RunId, now, null,
            $"lease on {key.Value} (token {existing.FencingToken}) expired at {existing.Holder.Expires:O} while the run was {state}: its holder stopped renewing (process died or hung); the lock stays held until a fresh plan is approved and applied, never released automatically", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The common case in one atomic round trip: bump the fence (locking the key against other acquirers and
    /// force-unlockers) and insert the lease carrying the new token. If a lease row exists, held or lapsed, the
    /// insert violates the primary key, which rolls back the whole transaction including the bump (so a refused
    /// attempt consumes no token), and the caller takes the full path. Returns null in that case.
    /// </summary>
    private async Task<LockLease?> TryAcquireFreeAsync(DbConnection connection, LockKey key, LockRequest request, CancellationToken cancellationToken)
    {
        // No lease is judged against this clock reading here, so reading it before the fence wait only ever makes
        // the new lease end a little early, never late.
        var now = context.Time.GetUtcNow();
        try
        {
            var tokens = await context.Dialect.RunAtomicallyAsync(connection,
                [
                    ("INSERT INTO lock_fences (lock_key, last_token) VALUES (@k, 1) ON CONFLICT (lock_key) DO UPDATE SET last_token = lock_fences.last_token + 1", [("@k", key.Value)]),
                    (
                        $"INSERT INTO locks ({LeaseColumns}) SELECT @k, @run, @actor, @reason, @since, @expires, last_token FROM lock_fences WHERE lock_key = @k RETURNING fencing_token",
                        [("@k", key.Value), ("@run", request.RunId), ("@actor", request.Actor), ("@reason", request.Reason), ("@since", Db.Ms(now)), ("@expires", Db.Ms(now + request.LeaseDuration))]
                    ),
                ],
                r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
            return new LockLease(key, new LockHolder(request.RunId, request.Actor, request.Reason, Truncate(now), Truncate(now + request.LeaseDuration)), tokens.Single());
        }
        catch (DbException e) when (context.Dialect.IsUniqueViolation(e))
        {
            return null;
        }
    }

    private static async Task<long> NextFenceAsync(DbConnection connection, DbTransaction transaction, LockKey key, CancellationToken cancellationToken)
    {
        var value = await connection.ScalarAsync(transaction,
            "INSERT INTO lock_fences (lock_key, last_token) VALUES (@k, 1) ON CONFLICT (lock_key) DO UPDATE SET last_token = lock_fences.last_token + 1 RETURNING last_token",
            cancellationToken, ("@k", key.Value)).ConfigureAwait(false);
        return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<long> LockFenceAsync(DbConnection connection, DbTransaction transaction, LockKey key, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(transaction, "INSERT INTO lock_fences (lock_key, last_token) VALUES (@k, 0) ON CONFLICT (lock_key) DO NOTHING", cancellationToken, ("@k", key.Value)).ConfigureAwait(false);
        var value = await connection.ScalarAsync(transaction, "SELECT last_token FROM lock_fences WHERE lock_key = @k" + context.Dialect.ForUpdate, cancellationToken, ("@k", key.Value)).ConfigureAwait(false);
        return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<LockLease?> ReadLeaseAsync(DbConnection connection, DbTransaction transaction, LockKey key, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync(transaction, $"SELECT {LeaseColumns} FROM locks WHERE lock_key = @k", ReadLease, cancellationToken, ("@k", key.Value)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    private static LockLease ReadLease(DbDataReader r) =>
        new(LockKey.Parse(r.GetString(0)), new LockHolder(r.GetString(1), r.GetString(2), r.GetString(3), Db.Instant(r.GetInt64(4)), Db.Instant(r.GetInt64(5))), r.GetInt64(6));

    private static DateTimeOffset Truncate(DateTimeOffset instant) => Db.Instant(Db.Ms(instant));
}

/// <summary>Orders leases by their keys' global order.</summary>
internal static class LeaseOrdering
{
    public static IComparer<LockLease> ToLeaseComparer(this IComparer<LockKey> keyComparer) =>
        Comparer<LockLease>.Create((a, b) => keyComparer.Compare(a.Key, b.Key));
}
