using System.Data.Common;

namespace Airlock.Store.Sql;

/// <summary>
/// Everything that differs between the SQLite and PostgreSQL backends. The shared SQL in this folder is written
/// once with <c>@name</c> parameters and these hooks; keeping the list short keeps the two backends honest.
/// </summary>
public abstract class SqlDialect
{
    /// <summary>"sqlite" or "postgresql".</summary>
    public abstract string Name { get; }

    /// <summary>Opens a connection ready for use.</summary>
    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Starts a transaction that will write. SQLite: BEGIN IMMEDIATE (takes the database write lock now, so
    /// read-then-write sequences cannot interleave across processes). PostgreSQL: READ COMMITTED; rows are
    /// serialised with <see cref="ForUpdate"/>.
    /// </summary>
    public abstract ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Suffix that row-locks a SELECT (" FOR UPDATE" on PostgreSQL; nothing on SQLite, whose write transaction already excludes other writers).</summary>
    public abstract string ForUpdate { get; }

    /// <summary>Suffix that row-locks a SELECT, skipping rows another transaction holds.</summary>
    public abstract string ForUpdateSkipLocked { get; }

    /// <summary>
    /// Runs <paramref name="statements"/> in order as one transaction, committed only if all succeed, and returns
    /// the rows of the last statement, read with <paramref name="read"/>; only the last statement may return
    /// columns (no SELECT or RETURNING before it). Each statement
    /// sees what the ones before it did and the row locks they took, exactly as separate statements would.
    /// PostgreSQL sends them in one round trip; SQLite runs them in one BEGIN IMMEDIATE transaction.
    /// </summary>
    public abstract Task<List<T>> RunAtomicallyAsync<T>(DbConnection connection, IReadOnlyList<(string Sql, (string Name, object? Value)[] Parameters)> statements, Func<DbDataReader, T> read, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="exception"/> is a primary-key or unique-constraint violation.</summary>
    public abstract bool IsUniqueViolation(DbException exception);

    /// <summary>Column type of an auto-incrementing 64-bit primary key.</summary>
    public abstract string IdentityColumn { get; }

    /// <summary>Column type for bytes.</summary>
    public abstract string BlobType { get; }

    /// <summary>Serialises schema migrations across processes; runs inside the migration transaction.</summary>
    public abstract Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>Schema DDL with <c>{id}</c> and <c>{blob}</c> filled in for this backend.</summary>
    public string Ddl(string sql) => sql.Replace("{id}", IdentityColumn, StringComparison.Ordinal).Replace("{blob}", BlobType, StringComparison.Ordinal);

    /// <summary>Releases pooled resources.</summary>
    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
