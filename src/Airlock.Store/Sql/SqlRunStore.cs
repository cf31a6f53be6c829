using System.Data.Common;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>Runs and their append-only event log, shared by both backends.</summary>
internal sealed class SqlRunStore(SqlContext context) : IRunStore
{
    private const string SystemActor = "airlock";

    public async Task<RunRecord> CreateAsync(string runId, string stack, string environment, string initialState, string actor, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(transaction, "INSERT INTO runs (id, stack, environment, state, created_at, updated_at) VALUES (@id, @stack, @env, @state, @now, @now)", cancellationToken,
            ("@id", runId), ("@stack", stack), ("@env", environment), ("@state", initialState), ("@now", Db.Ms(now))).ConfigureAwait(false);
        await AppendEventAsync(connection, transaction, runId, null, initialState, now, actor, "run created", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new RunRecord(runId, stack, environment, initialState, Db.Instant(Db.Ms(now)), Db.Instant(Db.Ms(now)));
    }

    public async Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, "SELECT id, stack, environment, state, created_at, updated_at FROM runs WHERE id = @id",
            r => new RunRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Db.Instant(r.GetInt64(4)), Db.Instant(r.GetInt64(5))),
            cancellationToken, ("@id", runId)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<RunEvent> TransitionAsync(string runId, string expectedFrom, string newState, string actor, string detail, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var current = (string?)await connection.ScalarAsync(transaction, "SELECT state FROM runs WHERE id = @id" + context.Dialect.ForUpdate, cancellationToken, ("@id", runId)).ConfigureAwait(false);
        if (current != expectedFrom)
        {
            throw new RunStateConflictException(runId, expectedFrom, current);
        }

        await connection.ExecuteAsync(transaction, "UPDATE runs SET state = @state, updated_at = @now WHERE id = @id", cancellationToken, ("@state", newState), ("@now", Db.Ms(now)), ("@id", runId)).ConfigureAwait(false);
        var runEvent = await AppendEventAsync(connection, transaction, runId, expectedFrom, newState, now, actor, detail, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return runEvent;
    }

    public async Task<IReadOnlyList<RunEvent>> ReadEventsAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null, "SELECT id, run_id, from_state, to_state, at, actor, detail FROM run_events WHERE run_id = @id ORDER BY id",
            r => new RunEvent(r.GetInt64(0), r.GetString(1), r.NullableString(2), r.GetString(3), Db.Instant(r.GetInt64(4)), r.GetString(5), r.GetString(6)),
            cancellationToken, ("@id", runId)).ConfigureAwait(false);
    }

    /// <summary>
    /// Marks a run NeedsReconciliation inside the caller's transaction (a lapsed or force-removed lease). The event is
    /// written even when the run row is unknown here, so the loss is never silent.
    /// </summary>
    internal static async Task MarkForReconciliationAsync(SqlContext context, DbConnection connection, DbTransaction transaction, string runId, DateTimeOffset now, string? actor, string detail, CancellationToken cancellationToken)
    {
        var current = (string?)await connection.ScalarAsync(transaction, "SELECT state FROM runs WHERE id = @id" + context.Dialect.ForUpdate, cancellationToken, ("@id", runId)).ConfigureAwait(false);
        if (current is not null && current != RunState.NeedsReconciliation.WireName())
        {
            await connection.ExecuteAsync(transaction, "UPDATE runs SET state = @state, updated_at = @now WHERE id = @id", cancellationToken,
                ("@state", RunState.NeedsReconciliation.WireName()), ("@now", Db.Ms(now)), ("@id", runId)).ConfigureAwait(false);
        }

        await AppendEventAsync(connection, transaction, runId, current, RunState.NeedsReconciliation.WireName(), now, actor ?? SystemActor, detail, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<RunEvent> AppendEventAsync(DbConnection connection, DbTransaction transaction, string runId, string? from, string to, DateTimeOffset at, string actor, string detail, CancellationToken cancellationToken)
    {
        var id = Convert.ToInt64(await connection.ScalarAsync(transaction,
            "INSERT INTO run_events (run_id, from_state, to_state, at, actor, detail) VALUES (@run, @from, @to, @at, @actor, @detail) RETURNING id", cancellationToken,
            ("@run", runId), ("@from", from), ("@to", to), ("@at", Db.Ms(at)), ("@actor", actor), ("@detail", detail)).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        return new RunEvent(id, runId, from, to, Db.Instant(Db.Ms(at)), actor, detail);
    }
}
