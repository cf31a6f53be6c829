using Airlock.Store.Postgres;
using Airlock.Store.Sql;
using Airlock.Store.Sqlite;
using Airlock.Testing;

using Microsoft.Extensions.Time.Testing;

namespace Airlock.Store.Tests;

/// <summary>How a test gets a fresh, real store of one backend.</summary>
public abstract class StoreBackend : IDisposable
{
    /// <summary>"sqlite" or "postgres", as the LockTaker helper expects.</summary>
    public abstract string Name { get; }

    /// <summary>A fresh empty database: a file path for SQLite, a connection string for PostgreSQL.</summary>
    public abstract Task<string> NewTargetAsync();

    /// <summary>Opens a store on <paramref name="target"/>.</summary>
    public abstract Task<SqlAirlockStore> OpenAsync(string target, TimeProvider time);

    /// <summary>The bare dialect on <paramref name="target"/>, for building a database at an older schema version.</summary>
    public abstract SqlDialect Dialect(string target);

    /// <summary>A fresh store with a fake clock starting at a fixed instant.</summary>
    public async Task<(SqlAirlockStore Store, FakeTimeProvider Time, string Target)> FreshAsync()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var target = await NewTargetAsync();
        return (await OpenAsync(target, time), time, target);
    }

    /// <inheritdoc />
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A fresh SQLite file per test, in a temp dir removed afterwards.</summary>
public sealed class SqliteBackend : StoreBackend
{
    private readonly TempDir _dir = new("airlock-store");

    public override string Name => "sqlite";

    public override Task<string> NewTargetAsync() => Task.FromResult(_dir.File($"{Guid.NewGuid():N}/airlock.db"));

    public override Task<SqlAirlockStore> OpenAsync(string target, TimeProvider time) =>
        AirlockStores.OpenSqliteAsync(target, new StoreOptions { Time = time }, CancellationToken.None);

    public override SqlDialect Dialect(string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return new SqliteDialect(target, TimeSpan.FromSeconds(30));
    }

    public override void Dispose()
    {
        _dir.Dispose();
        base.Dispose();
    }
}

/// <summary>A fresh database per test on the real PostgreSQL server.</summary>
public sealed class PostgresBackend : StoreBackend
{
    private static readonly string TestPlanKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public override string Name => "postgres";

    public override Task<string> NewTargetAsync() => PostgresServer.CreateDatabaseAsync();

    public override Task<SqlAirlockStore> OpenAsync(string target, TimeProvider time) =>
        AirlockStores.OpenPostgresAsync(target, new StoreOptions { Time = time, PlanKeyBase64 = TestPlanKey }, CancellationToken.None);

    public override SqlDialect Dialect(string target) => new PostgresDialect(target);

    /// <summary>Opens <paramref name="connectionString"/> (any role) with the tests' plan key.</summary>
    public static Task<SqlAirlockStore> OpenAsAsync(string connectionString) =>
        AirlockStores.OpenPostgresAsync(connectionString, new StoreOptions { PlanKeyBase64 = TestPlanKey }, CancellationToken.None);
}
