using Airlock.Store.Sql;

using Npgsql;

namespace Airlock.Store.Tests;

/// <summary>
/// Operations run replicas under a role that may read and write Airlock's tables but not create objects
/// (docs/operations.md): once an owner has migrated the database, opening it must need no DDL.
/// </summary>
public sealed class PostgresLeastPrivilegeTests
{
    [Fact]
    public async Task A_role_without_create_opens_a_migrated_database_and_works_but_cannot_migrate_a_new_one()
    {
        var owner = await PostgresServer.CreateDatabaseAsync();
        await (await PostgresBackend.OpenAsAsync(owner)).DisposeAsync();

        var role = "airlock_app_" + Guid.NewGuid().ToString("N")[..12];
        const string password = "app-password";
        var database = new NpgsqlConnectionStringBuilder(owner).Database!;
        await ExecuteAsync(owner,
            $"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
            $"GRANT CONNECT ON DATABASE {database} TO {role}",
            $"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            $"GRANT USAGE ON SCHEMA public TO {role}",
            $"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            $"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}");
        var asApp = new NpgsqlConnectionStringBuilder(owner) { Username = role, Password = password }.ToString();

        await using (var store = await PostgresBackend.OpenAsAsync(asApp))
        {
            Assert.Equal(Migrations.LatestVersion, store.SchemaVersion);
            var freeze = await store.Freezes.StartAsync("prod", "incident 7", "alice", DateTimeOffset.UtcNow, default);
            Assert.Equal("prod", freeze.Environment);
        }

        // The same role cannot create Airlock's tables in a fresh database: the error is the server's refusal.
        var fresh = await PostgresServer.CreateDatabaseAsync();
        await ExecuteAsync(fresh, "REVOKE CREATE ON SCHEMA public FROM PUBLIC", $"GRANT CONNECT ON DATABASE {new NpgsqlConnectionStringBuilder(fresh).Database} TO {role}");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => PostgresBackend.OpenAsAsync(new NpgsqlConnectionStringBuilder(fresh) { Username = role, Password = password }.ToString()));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    private static async Task ExecuteAsync(string connectionString, params string[] statements)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
