using System.Data.Common;

using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>
/// Incident freezes, shared by both backends. "At most one active freeze per environment" is a partial unique
/// index (environment WHERE stopped_at IS NULL), so racing starts in different processes cannot both succeed:
/// the loser gets a unique violation, reported as <see cref="FreezeAlreadyActiveException"/> naming the winner.
/// </summary>
internal sealed class SqlFreezeStore(SqlContext context) : IFreezeStore
{
    private const string Columns = "id, environment, reason, started_by, started_at, stopped_by, stopped_at";

    // A refused start reads the active freeze to name it; if that freeze was stopped in between, the start is
    // simply tried again. Bounded so a pathological start/stop storm cannot spin forever.
    private const int StartAttempts = 5;

    public async Task<IncidentFreezeRecord> StartAsync(string environment, string reason, string actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(environment);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
                var rows = await connection.QueryAsync(null,
                    $"INSERT INTO incident_freezes (environment, reason, started_by, started_at) VALUES (@env, @reason, @actor, @at) RETURNING {Columns}",
                    Read, cancellationToken, ("@env", environment), ("@reason", reason), ("@actor", actor), ("@at", Db.Ms(at))).ConfigureAwait(false);
                return rows[0];
            }
            catch (DbException error) when (context.Dialect.IsUniqueViolation(error))
            {
                if (await ActiveAsync(environment, cancellationToken).ConfigureAwait(false) is { } active)
                {
                    throw new FreezeAlreadyActiveException(active);
                }

                if (attempt >= StartAttempts)
                {
                    throw;
                }
            }
        }
    }

    public async Task<IncidentFreezeRecord?> StopAsync(string environment, string actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(environment);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        // One statement: two racing stops cannot both stop the same freeze (the loser matches no row).
        var rows = await connection.QueryAsync(null,
            $"UPDATE incident_freezes SET stopped_by = @actor, stopped_at = @at WHERE environment = @env AND stopped_at IS NULL RETURNING {Columns}",
            Read, cancellationToken, ("@actor", actor), ("@at", Db.Ms(at)), ("@env", environment)).ConfigureAwait(false);
        return rows.SingleOrDefault();
    }

    public async Task<IncidentFreezeRecord?> ActiveAsync(string environment, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, $"SELECT {Columns} FROM incident_freezes WHERE environment = @env AND stopped_at IS NULL", Read, cancellationToken, ("@env", environment)).ConfigureAwait(false);
        return rows.SingleOrDefault();
    }

    public async Task<IReadOnlyList<IncidentFreezeRecord>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null,
            $"""
            SELECT {Columns} FROM incident_freezes
            ORDER BY CASE WHEN stopped_at IS NULL THEN 0 ELSE 1 END, COALESCE(stopped_at, started_at) DESC, id DESC
            LIMIT @limit
            """,
            Read, cancellationToken, ("@limit", limit)).ConfigureAwait(false);
    }

    private static IncidentFreezeRecord Read(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), Db.Instant(r.GetInt64(4)), r.NullableString(5), Db.Instant(r.NullableInt64(6)));
}
