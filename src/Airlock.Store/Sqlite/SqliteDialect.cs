using System.Data.Common;

using Airlock.Store.Sql;

using Microsoft.Data.Sqlite;

namespace Airlock.Store.Sqlite;

/// <summary>SQLite: one file, WAL journal, BEGIN IMMEDIATE write transactions, a busy timeout instead of errors under contention.</summary>
public sealed class SqliteDialect : SqlDialect
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;

    /// <summary>Dialect for the database file at <paramref name="databasePath"/>.</summary>
    public SqliteDialect(string databasePath, TimeSpan busyTimeout)
    {
        DatabasePath = databasePath;
        _busyTimeoutMs = (int)busyTimeout.TotalMilliseconds;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)busyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc />
    public override string Name => "sqlite";

    /// <inheritdoc />
    public override string ForUpdate => string.Empty;

    /// <inheritdoc />
    public override string ForUpdateSkipLocked => string.Empty;

    /// <inheritdoc />
    public override string IdentityColumn => "INTEGER PRIMARY KEY AUTOINCREMENT";

    /// <inheritdoc />
    public override string BlobType => "BLOB";

    /// <inheritdoc />
    public override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            // busy_timeout makes a writer wait for the file lock held by another process instead of failing;
            // WAL lets readers (airlock locks/queue) run while a writer holds it.
            await connection.ExecuteAsync(null, $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public override ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        // deferred: false → BEGIN IMMEDIATE: the write lock is taken up front, so no two read-then-write
        // transactions interleave and none fails late with SQLITE_BUSY on upgrade.
        return ValueTask.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false));
    }

    /// <inheritdoc />
    public override async Task<List<T>> RunAtomicallyAsync<T>(DbConnection connection, IReadOnlyList<(string Sql, (string Name, object? Value)[] Parameters)> statements, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(statements);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        foreach (var (sql, parameters) in statements)
        {
            await using var command = connection.Command(transaction, sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            // Only the last statement returns columns, so the last statement's rows are the answer.
            rows = await Db.ReadLastResultAsync(reader, read, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <inheritdoc />
    public override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 1555 or 2067 }; // SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE

    /// <inheritdoc />
    public override Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;
}
