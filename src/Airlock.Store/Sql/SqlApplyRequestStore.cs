using System.Data.Common;

using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>
/// Apply requests shared by both backends. A claim picks the oldest pending row with FOR UPDATE SKIP LOCKED
/// (PostgreSQL: racing workers skip each other's rows instead of waiting) inside a write transaction (SQLite: BEGIN
/// IMMEDIATE excludes other writers), so each request is claimed once. Lapsed claims are never re-claimed.
/// </summary>
internal sealed class SqlApplyRequestStore(SqlContext context) : IApplyRequestStore
{
    private const string Columns = "run_id, plan_id, actor, break_glass_incident, break_glass_reason, state, requested_at, claimed_by, claimed_at, claimed_until, finished_at, outcome";

    public async Task CreateAsync(ApplyRequestRecord request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(null,
            $"INSERT INTO apply_requests ({Columns}) VALUES (@run, @plan, @actor, @incident, @reason, @state, @at, NULL, NULL, NULL, NULL, NULL)",
            cancellationToken,
            ("@run", request.RunId), ("@plan", request.PlanId), ("@actor", request.Actor), ("@incident", request.BreakGlassIncident),
            ("@reason", request.BreakGlassReason), ("@state", ApplyRequestStates.Pending), ("@at", Db.Ms(request.RequestedAt))).ConfigureAwait(false);
    }

    public async Task<ApplyRequestRecord?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, $"SELECT {Columns} FROM apply_requests WHERE run_id = @run", Read, cancellationToken, ("@run", runId)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<ApplyRequestRecord?> ClaimNextAsync(string worker, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var now = context.Time.GetUtcNow();
        var rows = await connection.QueryAsync(transaction,
            $"""
            UPDATE apply_requests SET state = @claimed, claimed_by = @worker, claimed_at = @now, claimed_until = @until
            WHERE run_id = (SELECT run_id FROM apply_requests WHERE state = @pending ORDER BY requested_at, run_id LIMIT 1{context.Dialect.ForUpdateSkipLocked})
              AND state = @pending
            RETURNING {Columns}
            """,
            Read, cancellationToken,
            ("@claimed", ApplyRequestStates.Claimed), ("@worker", worker), ("@now", Db.Ms(now)), ("@until", Db.Ms(now + lease)), ("@pending", ApplyRequestStates.Pending)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<bool> RenewAsync(string runId, string worker, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        // Only a live claim is extended: once lapsed, the reconciler may already have abandoned it.
        return await connection.ExecuteAsync(null,
            "UPDATE apply_requests SET claimed_until = @until WHERE run_id = @run AND claimed_by = @worker AND state = @claimed AND claimed_until > @now",
            cancellationToken, ("@until", Db.Ms(now + lease)), ("@run", runId), ("@worker", worker), ("@claimed", ApplyRequestStates.Claimed), ("@now", Db.Ms(now))).ConfigureAwait(false) == 1;
    }

    public async Task<bool> CompleteAsync(string runId, string worker, string outcome, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null,
            "UPDATE apply_requests SET state = @done, finished_at = @now, outcome = @outcome WHERE run_id = @run AND claimed_by = @worker AND state = @claimed",
            cancellationToken, ("@done", ApplyRequestStates.Done), ("@now", Db.Ms(now)), ("@outcome", outcome), ("@run", runId), ("@worker", worker), ("@claimed", ApplyRequestStates.Claimed)).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<ApplyRequestRecord>> ListLapsedAsync(CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null,
            $"SELECT {Columns} FROM apply_requests WHERE state = @claimed AND claimed_until <= @now ORDER BY claimed_until LIMIT 100",
            Read, cancellationToken, ("@claimed", ApplyRequestStates.Claimed), ("@now", Db.Ms(now))).ConfigureAwait(false);
    }

    public async Task<bool> AbandonAsync(string runId, string reason, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null,
            "UPDATE apply_requests SET state = @abandoned, finished_at = @now, outcome = @reason WHERE run_id = @run AND state = @claimed AND claimed_until <= @now",
            cancellationToken, ("@abandoned", ApplyRequestStates.Abandoned), ("@now", Db.Ms(now)), ("@reason", reason), ("@run", runId), ("@claimed", ApplyRequestStates.Claimed)).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<ApplyRequestRecord>> ListAsync(string state, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null,
            $"SELECT {Columns} FROM apply_requests WHERE state = @state ORDER BY requested_at, run_id LIMIT @limit",
            Read, cancellationToken, ("@state", state), ("@limit", limit)).ConfigureAwait(false);
    }

    private static ApplyRequestRecord Read(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.NullableString(4), r.GetString(5), Db.Instant(r.GetInt64(6)),
            r.NullableString(7), Db.Instant(r.NullableInt64(8)), Db.Instant(r.NullableInt64(9)), Db.Instant(r.NullableInt64(10)), r.NullableString(11));
}
