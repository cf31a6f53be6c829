using System.Data.Common;
using System.Text.Json;

using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>
/// Apply queues shared by both backends. A claim locks the queue's head row, counts what is claimed, picks the
/// next item with <see cref="QueueSelection"/> and marks it claimed, all in one short transaction; racing
/// claimers on other processes queue up on the head row, so a concurrency limit cannot be overshot and an item
/// cannot be claimed twice.
/// </summary>
internal sealed class SqlQueueStore(SqlContext context) : IQueueStore
{
    // Bounds the rows a keyed claim scans for a key that still has room.
    private const int KeyedScanLimit = 500;
    private const string Columns = "id, queue, run_id, environment, stack, priority_class, priority_rank, concurrency_key, required_locks, hold_reason, state, enqueued_at, claimed_at, claimed_by, finished_at, outcome";

    public async Task<QueueItem> EnqueueAsync(QueueDefinition queue, EnqueueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(request);
        queue.Validate();
        var rank = queue.PriorityRank(request.PriorityClass);
        if (queue.Key is not null && string.IsNullOrWhiteSpace(request.ConcurrencyKey))
        {
            throw new ArgumentException($"queue '{queue.Name}' is keyed by {queue.Key}: the item needs a {queue.Key}");
        }

        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(transaction, "INSERT INTO queue_heads (queue) VALUES (@q) ON CONFLICT (queue) DO NOTHING", cancellationToken, ("@q", queue.Name)).ConfigureAwait(false);
        var rows = await connection.QueryAsync(transaction,
            $"""
            INSERT INTO queue_items (queue, run_id, environment, stack, priority_class, priority_rank, concurrency_key, required_locks, hold_reason, state, enqueued_at)
            VALUES (@q, @run, @env, @stack, @class, @rank, @key, @locks, @hold, 'waiting', @now) RETURNING {Columns}
            """,
            Read, cancellationToken,
            ("@q", queue.Name), ("@run", request.RunId), ("@env", request.Environment), ("@stack", request.Stack), ("@class", request.PriorityClass), ("@rank", rank),
            ("@key", queue.Key is null ? null : request.ConcurrencyKey), ("@locks", JsonSerializer.Serialize(request.RequiredLocks.Select(k => k.Value).ToArray())),
            ("@hold", request.HoldReason), ("@now", Db.Ms(now))).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows[0];
    }

    public async Task<QueueItem?> ClaimAsync(QueueDefinition queue, string claimer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        queue.Validate();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var head = await connection.ScalarAsync(transaction, "SELECT queue FROM queue_heads WHERE queue = @q" + context.Dialect.ForUpdate, cancellationToken, ("@q", queue.Name)).ConfigureAwait(false);
        if (head is null)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        var counts = await connection.QueryAsync(transaction,
            "SELECT COALESCE(concurrency_key, ''), COUNT(*) FROM queue_items WHERE queue = @q AND state = 'claimed' GROUP BY COALESCE(concurrency_key, '')",
            r => (Key: r.GetString(0), Count: r.GetInt32(1)), cancellationToken, ("@q", queue.Name)).ConfigureAwait(false);
        var claimedByKey = counts.ToDictionary(c => c.Key, c => c.Count, StringComparer.Ordinal);
        if (queue.Key is null && claimedByKey.Values.Sum() >= queue.Concurrency)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        // SKIP LOCKED: rows a canceller or hold-setter is touching right now are passed over instead of waited for.
        var limit = queue.Key is null ? 1 : KeyedScanLimit;
        var waiting = await connection.QueryAsync(transaction,
            $"SELECT {Columns} FROM queue_items WHERE queue = @q AND state = 'waiting' AND hold_reason IS NULL ORDER BY priority_rank, id LIMIT {limit}" + context.Dialect.ForUpdateSkipLocked,
            Read, cancellationToken, ("@q", queue.Name)).ConfigureAwait(false);
        var next = QueueSelection.PickNext(queue, waiting, claimedByKey);
        if (next is null)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        var now = context.Time.GetUtcNow();
        var updated = await connection.ExecuteAsync(transaction, "UPDATE queue_items SET state = 'claimed', claimed_at = @now, claimed_by = @by WHERE id = @id AND state = 'waiting'", cancellationToken,
            ("@now", Db.Ms(now)), ("@by", claimer), ("@id", next.Id)).ConfigureAwait(false);
        if (updated != 1)
        {
            throw new InvalidOperationException($"queue item {next.Id} changed state while locked for claiming");
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return next with { State = QueueItemState.Claimed, ClaimedAt = Db.Instant(Db.Ms(now)), ClaimedBy = claimer };
    }

    public async Task<bool> CompleteAsync(long itemId, string outcome, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null, "UPDATE queue_items SET state = 'completed', finished_at = @now, outcome = @outcome WHERE id = @id AND state = 'claimed'", cancellationToken,
            ("@now", Db.Ms(context.Time.GetUtcNow())), ("@outcome", outcome), ("@id", itemId)).ConfigureAwait(false) == 1;
    }

    public async Task<bool> CancelAsync(long itemId, string actor, string reason, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(actor) || string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("cancelling a queue item needs an actor and a reason");
        }

        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null, "UPDATE queue_items SET state = 'cancelled', finished_at = @now, outcome = @outcome WHERE id = @id AND state = 'waiting'", cancellationToken,
            ("@now", Db.Ms(context.Time.GetUtcNow())), ("@outcome", $"cancelled by {actor}: {reason}"), ("@id", itemId)).ConfigureAwait(false) == 1;
    }

    public async Task<bool> SetHoldAsync(long itemId, string? holdReason, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null, "UPDATE queue_items SET hold_reason = @hold WHERE id = @id AND state = 'waiting'", cancellationToken,
            ("@hold", holdReason), ("@id", itemId)).ConfigureAwait(false) == 1;
    }

    public async Task<QueueItem?> GetAsync(long itemId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, $"SELECT {Columns} FROM queue_items WHERE id = @id", Read, cancellationToken, ("@id", itemId)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<IReadOnlyList<QueueItem>> ListActiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null, $"SELECT {Columns} FROM queue_items WHERE state IN ('waiting', 'claimed') ORDER BY queue, priority_rank, id", Read, cancellationToken).ConfigureAwait(false);
    }

    private static QueueItem Read(DbDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        r.GetString(5),
        r.GetInt32(6),
        r.NullableString(7),
        (JsonSerializer.Deserialize<string[]>(r.GetString(8)) ?? []).Select(LockKey.Parse).ToList(),
        r.NullableString(9),
        ParseState(r.GetString(10)),
        Db.Instant(r.GetInt64(11)),
        Db.Instant(r.NullableInt64(12)),
        r.NullableString(13),
        Db.Instant(r.NullableInt64(14)),
        r.NullableString(15));

    private static QueueItemState ParseState(string state) => state switch
    {
        "waiting" => QueueItemState.Waiting,
        "claimed" => QueueItemState.Claimed,
        "completed" => QueueItemState.Completed,
        "cancelled" => QueueItemState.Cancelled,
        _ => throw new InvalidDataException($"unknown queue item state '{state}'"),
    };
}
