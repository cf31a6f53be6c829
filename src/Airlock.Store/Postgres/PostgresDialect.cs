using System.Data.Common;

using Airlock.Store.Sql;

using Npgsql;

namespace Airlock.Store.Postgres;

/// <summary>PostgreSQL: pooled NpgsqlDataSource, READ COMMITTED with explicit row locks, SKIP LOCKED for queue claims.</summary>
public sealed class PostgresDialect(string connectionString) : SqlDialect
{
    // Arbitrary constant: the advisory lock id that serialises schema migrations across instances.
    private const long SchemaLockId = 0x4169726C6F636B;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    /// <inheritdoc />
    public override string Name => "postgresql";

    /// <inheritdoc />
    public override string ForUpdate => " FOR UPDATE";

    /// <inheritdoc />
    public override string ForUpdateSkipLocked => " FOR UPDATE SKIP LOCKED";

    /// <inheritdoc />
    public override string IdentityColumn => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";

    /// <inheritdoc />
    public override string BlobType => "BYTEA";

    /// <inheritdoc />
    public override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override async ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(transaction, "SELECT pg_advisory_xact_lock(@id)", cancellationToken, ("@id", SchemaLockId));

    /// <inheritdoc />
    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
