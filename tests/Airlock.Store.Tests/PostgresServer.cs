using System.Diagnostics;

using Airlock.Testing;

using Npgsql;

namespace Airlock.Store.Tests;

/// <summary>
/// The real PostgreSQL server for the tests: AIRLOCK_TEST_POSTGRES when set, else the throwaway cluster that
/// scripts/postgres-test-server.sh starts. Started once per test run. Tests fail (never skip) without it.
/// </summary>
public static class PostgresServer
{
    private static readonly Lazy<string> Server = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Connection string of the server's maintenance database.</summary>
    public static string ConnectionString => Server.Value;

    /// <summary>Creates an empty database for one test and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "airlock_t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name, Pooling = true, MaxPoolSize = 40 }.ToString();
    }

    private static string Start()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("AIRLOCK_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }

        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.RepoRoot, "scripts", "postgres-test-server.sh"));
        psi.ArgumentList.Add("start");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start scripts/postgres-test-server.sh");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL for the tests could not be started (set AIRLOCK_TEST_POSTGRES or fix scripts/postgres-test-server.sh): {stderr.Result}");
        }

        return stdout.Trim();
    }
}
