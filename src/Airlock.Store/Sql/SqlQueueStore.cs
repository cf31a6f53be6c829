using System.Data.Common;
using System.Text.Json;

using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>
/// Apply queues shared by both backends. A claim locks the queue's head row, then counts what is claimed, picks
/// the next item the way <see cref="QueueSelection"/> does and marks it claimed, all in one short transaction;
/// racing claimers on other processes queue up on the head row, so a concurrency limit cannot be overshot and an
/// item cannot be claimed twice. A claim carries a lease (claimed_until) renewed by its claimer; one whose lease lapsed
/// is not counted, so a crashed claimer cannot block a queue for ever.
/// </summary>
internal sealed class SqlQueueStore(SqlContext context) : IQueueStore
{
    private const string Columns = "id, queue, run_id, environment, stack, priority_class, priority_rank, concurrency_key, required_locks, hold_reason, state, enqueued_at, claimed_at, claimed_by, finished_at, outcome, claimed_until";

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

    public Task<QueueItem?> ClaimAsync(QueueDefinition queue, string claimer, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimHeadAsync(queue, claimer, lease, null, cancellationToken);

    public Task<QueueItem?> ClaimItemAsync(QueueDefinition queue, long itemId, string claimer, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimHeadAsync(queue, claimer, lease, itemId, cancellationToken);

    public async Task<bool> RenewClaimAsync(long itemId, string claimer, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null,
            "UPDATE queue_items SET claimed_until = @until WHERE id = @id AND state = 'claimed' AND claimed_by = @by AND claimed_until > @now",
            cancellationToken, ("@until", Db.Ms(now + lease)), ("@id", itemId), ("@by", claimer), ("@now", Db.Ms(now))).ConfigureAwait(false) == 1;
    }

    // Picks the head of the line and claims it; with onlyItem, claims it only when the head is that item, so
    // ClaimItemAsync obeys exactly the ordering, holds, limits and head-row locking of ClaimAsync.
    private async Task<QueueItem?> ClaimHeadAsync(QueueDefinition queue, string claimer, TimeSpan lease, long? onlyItem, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        queue.Validate();
        // Room is counted per key on a keyed queue (skipping items whose key is full, so a busy service does not hold
        // up the others) and over the whole queue otherwise; the order is priority rank, then FIFO by id. Items without
        // a key (enqueued before the queue was keyed) share the "" key, as in QueueSelection.KeyOf. Only live claims
        // count: one whose lease lapsed belongs to a claimer that stopped renewing it.
        var room = queue.Key is null
            ? "(SELECT COUNT(*) FROM queue_items c WHERE c.queue = @q AND c.state = 'claimed' AND c.claimed_until > @now) < @limit"
            : "(SELECT COUNT(*) FROM queue_items c WHERE c.queue = @q AND c.state = 'claimed' AND c.claimed_until > @now AND COALESCE(c.concurrency_key, '') = COALESCE(w.concurrency_key, '')) < @limit";
        var now = context.Time.GetUtcNow();
        (string Name, object? Value)[] claimParameters = [("@q", queue.Name), ("@limit", queue.Concurrency), ("@now", Db.Ms(now)), ("@until", Db.Ms(now + lease)), ("@by", claimer)];
        var onlyThatItem = string.Empty;
        if (onlyItem is { } item)
        {
            onlyThatItem = " AND id = @item";
            claimParameters = [.. claimParameters, ("@item", item)];
        }

        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        // One atomic round trip. The first statement creates or row-locks the queue's head row, so claimers of one
        // queue still take turns and a limit cannot be overshot; the claim then runs on a snapshot taken after the
        // lock was granted, so it counts every claim committed before it. The head lock is held only while the
        // server runs the claim, not across client round trips. SKIP LOCKED passes over items a canceller or
        // hold-setter is touching right now instead of waiting for them.
        var rows = await context.Dialect.RunAtomicallyAsync(connection,
            [
                ("INSERT INTO queue_heads (queue) VALUES (@q) ON CONFLICT (queue) DO UPDATE SET queue = excluded.queue", [("@q", queue.Name)]),
                (
                    $"""
                    UPDATE queue_items SET state = 'claimed', claimed_at = @now, claimed_by = @by, claimed_until = @until
                    WHERE state = 'waiting' AND id = (
                      SELECT w.id FROM queue_items w
                      WHERE w.queue = @q AND w.state = 'waiting' AND w.hold_reason IS NULL AND {room}
                      ORDER BY w.priority_rank, w.id LIMIT 1{context.Dialect.ForUpdateSkipLocked}){onlyThatItem}
                    RETURNING {Columns}
                    """,
                    claimParameters
                ),
            ],
            Read, cancellationToken).ConfigureAwait(false);
        return rows.SingleOrDefault();
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
        r.NullableString(15),
        Db.Instant(r.NullableInt64(16)));

    private static QueueItemState ParseState(string state) => state switch
    {
        "waiting" => QueueItemState.Waiting,
        "claimed" => QueueItemState.Claimed,
        "completed" => QueueItemState.Completed,
        "cancelled" => QueueItemState.Cancelled,
        _ => throw new InvalidDataException($"unknown queue item state '{state}'"),
    };
}
