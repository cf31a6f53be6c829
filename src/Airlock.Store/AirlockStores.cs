using Airlock.Domain.Storage;
using Airlock.Store.Plans;
using Airlock.Store.Postgres;
using Airlock.Store.Sql;
using Airlock.Store.Sqlite;

namespace Airlock.Store;

/// <summary>Options shared by both backends.</summary>
public sealed record StoreOptions
{
    /// <summary>The clock for leases, expiry and timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>SQLite: how long a writer waits for another process's write lock before failing.</summary>
    public TimeSpan SqliteBusyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Base64 AES-256 plan key (e.g. AIRLOCK_PLAN_KEY); wins over <see cref="PlanKeyFile"/>.</summary>
    public string? PlanKeyBase64 { get; init; }

    /// <summary>Plan key file; created 0600 on first use. Defaults to .airlock/keys/plan.key for workspaces.</summary>
    public string? PlanKeyFile { get; init; }
}

/// <summary>Opens the store: the workspace's SQLite file or a PostgreSQL database.</summary>
public static class AirlockStores
{
    /// <summary>Environment variable with a PostgreSQL connection string.</summary>
    public const string DatabaseUrlVariable = "AIRLOCK_DATABASE_URL";

    /// <summary>Environment variable with a base64 plan key.</summary>
    public const string PlanKeyVariable = "AIRLOCK_PLAN_KEY";

    /// <summary>The SQLite file of a workspace: <c>&lt;workspace&gt;/.airlock/airlock.db</c>.</summary>
    public static string WorkspaceDatabasePath(string workspace) => Path.Combine(workspace, ".airlock", "airlock.db");

    /// <summary>Opens (creating and migrating) the SQLite store of <paramref name="workspace"/>.</summary>
    public static Task<SqlAirlockStore> OpenWorkspaceAsync(string workspace, StoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keyFile = options.PlanKeyFile ?? Path.Combine(workspace, ".airlock", "keys", "plan.key");
        return OpenSqliteAsync(WorkspaceDatabasePath(workspace), options with { PlanKeyFile = keyFile }, cancellationToken);
    }

    /// <summary>Opens (creating and migrating) a SQLite store at <paramref name="databasePath"/>.</summary>
    public static Task<SqlAirlockStore> OpenSqliteAsync(string databasePath, StoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        var keyFile = options.PlanKeyFile ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(databasePath))!, "keys", "plan.key");
        return SqlAirlockStore.OpenAsync(new SqliteDialect(databasePath, options.SqliteBusyTimeout), options.Time, () => ResolveKey(options, keyFile), cancellationToken);
    }

    /// <summary>Opens (migrating) a PostgreSQL store. A plan key must be configured (base64 or key file).</summary>
    public static Task<SqlAirlockStore> OpenPostgresAsync(string connectionString, StoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SqlAirlockStore.OpenAsync(new PostgresDialect(connectionString), options.Time, () => ResolveKey(options, options.PlanKeyFile), cancellationToken);
    }

    /// <summary>
    /// The store a command in <paramref name="workingDirectory"/> should use: PostgreSQL when
    /// <paramref name="databaseUrl"/> or AIRLOCK_DATABASE_URL is set, else the workspace's SQLite file.
    /// </summary>
    public static Task<SqlAirlockStore> OpenForCommandAsync(string workingDirectory, string? databaseUrl, Func<string, string?> environment, StoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options = options with { PlanKeyBase64 = options.PlanKeyBase64 ?? environment(PlanKeyVariable) };
        var url = databaseUrl ?? environment(DatabaseUrlVariable);
        return string.IsNullOrWhiteSpace(url)
            ? OpenWorkspaceAsync(workingDirectory, options, cancellationToken)
            : OpenPostgresAsync(url, options, cancellationToken);
    }

    private static PlanKey ResolveKey(StoreOptions options, string? keyFile)
    {
        if (!string.IsNullOrWhiteSpace(options.PlanKeyBase64))
        {
            return PlanKey.FromBase64(options.PlanKeyBase64);
        }

        return keyFile is not null
            ? PlanKey.LoadOrCreate(keyFile)
            : throw new PlanKeyMissingException($"no plan key configured: set {PlanKeyVariable} (base64 of 32 bytes) or a plan key file");
    }
}
