using System.Data.Common;

using Airlock.Store.Sql;

using Npgsql;

namespace Airlock.Store.Postgres;

/// <summary>PostgreSQL: pooled NpgsqlDataSource, READ COMMITTED with explicit row locks, SKIP LOCKED for queue claims.</summary>
public sealed class PostgresDialect(string connectionString) : SqlDialect
{
    // Arbitrary constant: the advisory lock id that serialises schema migrations across instances.
    private const long SchemaLockId = 0x4169726C6F636B;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(Tune(PostgresUrl.ToConnectionString(connectionString)));

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
    public override async Task<List<T>> RunAtomicallyAsync<T>(DbConnection connection, IReadOnlyList<(string Sql, (string Name, object? Value)[] Parameters)> statements, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(statements);
        // One batch, no explicit transaction: the statements share one extended-protocol Sync, so PostgreSQL runs
        // them as one implicit transaction (any error rolls back all of them) and each still takes its own READ
        // COMMITTED snapshot after the previous one finished, so a row lock taken by one is in force for the next.
        await using var batch = ((NpgsqlConnection)connection).CreateBatch();
        foreach (var (sql, parameters) in statements)
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            batch.BatchCommands.Add(command);
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await Db.ReadLastResultAsync(reader, read, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override bool IsUniqueViolation(DbException exception) => exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <inheritdoc />
    public override Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(transaction, "SELECT pg_advisory_xact_lock(@id)", cancellationToken, ("@id", SchemaLockId));

    /// <inheritdoc />
    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    // Defaults for the store's short statements, unless the connection string chooses otherwise: no session reset
    // round trip when a pooled connection is reused (the store sets no session state; transactions are rolled
    // back on return regardless), and automatic preparation of the few statements it repeats.
    private static string Tune(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var tuned = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            tuned.NoResetOnClose = true;
        }

        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            tuned.MaxAutoPrepare = 64;
        }

        return tuned.ToString();
    }
}
