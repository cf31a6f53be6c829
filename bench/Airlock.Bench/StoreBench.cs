using System.Data.Common;
using System.Diagnostics;
using System.Globalization;

using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Store;
using Airlock.Store.Sql;

using Microsoft.Data.Sqlite;

using Npgsql;

/// <summary>
/// `store` suite: 16 concurrent workers doing lock acquire+release cycles and queue claims through the store,
/// next to a bare SQL loop doing the minimum equivalent statements on the same server (the ceiling).
/// Usage: store [--postgres CONNSTR] [--seconds N] [--workers N]
/// PostgreSQL comes from --postgres, AIRLOCK_DATABASE_URL or AIRLOCK_TEST_POSTGRES; a fresh database is created.
/// </summary>
internal static class StoreBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = double.Parse(Arg(args, "--seconds") ?? "5", CultureInfo.InvariantCulture);
        var workers = int.Parse(Arg(args, "--workers") ?? "16", CultureInfo.InvariantCulture);
        var server = Arg(args, "--postgres") ?? Environment.GetEnvironmentVariable("AIRLOCK_DATABASE_URL") ?? Environment.GetEnvironmentVariable("AIRLOCK_TEST_POSTGRES");
        Console.WriteLine($"store bench: {workers} workers, {seconds}s per measurement, {Environment.ProcessorCount} cores");

        if (server is null)
        {
            Console.Error.WriteLine("no PostgreSQL: pass --postgres or set AIRLOCK_DATABASE_URL / AIRLOCK_TEST_POSTGRES");
            return 2;
        }

        var pgTarget = await CreateDatabaseAsync(server);
        var planKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using (var pg = await AirlockStores.OpenPostgresAsync(pgTarget, new StoreOptions { PlanKeyBase64 = planKey }, CancellationToken.None))
        {
            await MeasureAsync("postgresql", pg, () => new ValueTask<DbConnection>(OpenNpgsql(pgTarget)), postgres: true, workers, seconds);
        }

        var dir = Path.Combine(Path.GetTempPath(), "airlock-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var dbPath = Path.Combine(dir, "airlock.db");
            await using var sqlite = await AirlockStores.OpenSqliteAsync(dbPath, new StoreOptions(), CancellationToken.None);
            await MeasureAsync("sqlite", sqlite, () => OpenSqliteAsync(dbPath), postgres: false, workers, seconds);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }

        return 0;
    }

    private static async Task MeasureAsync(string backend, SqlAirlockStore store, Func<ValueTask<DbConnection>> bare, bool postgres, int workers, double seconds)
    {
        // Locks: each worker cycles its own key (throughput of the lease machinery, not of contention).
        var request = new LockRequest("bench", "bench", "bench", TimeSpan.FromMinutes(1));
        var storeCycles = await CountAsync(workers, seconds, async w =>
        {
            var key = LockKey.Stack("bench", "prod", "1", "eu", "s" + w.ToString(CultureInfo.InvariantCulture));
            var lease = (await store.Locks.TryAcquireAsync(key, request, CancellationToken.None)).Lease ?? throw new InvalidOperationException("bench key unexpectedly held");
            await store.Locks.ReleaseAsync(key, lease.FencingToken, CancellationToken.None);
        });

        await using (var setup = await bare())
        {
            await Exec(setup, "CREATE TABLE IF NOT EXISTS bare_locks (k TEXT PRIMARY KEY, token BIGINT NOT NULL, held INTEGER NOT NULL)");
        }

        // Ceiling: one upsert that bumps the token and marks held, one update that clears it — the least a fenced lock can do.
        var bareCycles = await CountAsync(workers, seconds, async w =>
        {
            await using var connection = await bare();
            await Exec(connection, $"INSERT INTO bare_locks (k, token, held) VALUES ('w{w}', 1, 1) ON CONFLICT (k) DO UPDATE SET token = bare_locks.token + 1, held = 1 WHERE bare_locks.held = 0");
            await Exec(connection, $"UPDATE bare_locks SET held = 0 WHERE k = 'w{w}'");
        });

        Console.WriteLine($"{backend,-10} lock acquire+release: store {storeCycles / seconds,9:F0} cycles/s   bare SQL ceiling {bareCycles / seconds,9:F0} cycles/s");

        // Queue claims: a deep queue, each worker claims then completes; claim latency is what a worker waits.
        var queue = new QueueDefinition("bench", new QueueMatch("prod", []), 1000, null, ["emergency", "standard"], StalePlanPolicy.Fail);
        const int depth = 4000;
        for (var i = 0; i < depth; i++)
        {
            await store.Queues.EnqueueAsync(queue, new EnqueueRequest("r" + i.ToString(CultureInfo.InvariantCulture), "prod", "s", i % 10 == 0 ? "emergency" : "standard", null, []), CancellationToken.None);
        }

        var storeLatencies = await LatenciesAsync(workers, seconds, async () =>
        {
            var started = Stopwatch.GetTimestamp();
            var item = await store.Queues.ClaimAsync(queue, "bench", CancellationToken.None);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (item is not null)
            {
                await store.Queues.CompleteAsync(item.Id, "ok", CancellationToken.None);
            }

            return item is null ? null : elapsed;
        });

        await using (var setup = await bare())
        {
            await Exec(setup, postgres
                ? "CREATE TABLE IF NOT EXISTS bare_queue (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, state TEXT NOT NULL)"
                : "CREATE TABLE IF NOT EXISTS bare_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL)");
            for (var i = 0; i < depth; i += 500)
            {
                await Exec(setup, "INSERT INTO bare_queue (state) VALUES " + string.Join(',', Enumerable.Repeat("('waiting')", 500)));
            }
        }

        var claimSql = postgres
            ? "UPDATE bare_queue SET state = 'claimed' WHERE id = (SELECT id FROM bare_queue WHERE state = 'waiting' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
            : "UPDATE bare_queue SET state = 'claimed' WHERE id = (SELECT id FROM bare_queue WHERE state = 'waiting' ORDER BY id LIMIT 1) RETURNING id";
        var bareLatencies = await LatenciesAsync(workers, seconds, async () =>
        {
            await using var connection = await bare();
            var started = Stopwatch.GetTimestamp();
            await using var command = connection.CreateCommand();
            command.CommandText = claimSql;
            var id = await command.ExecuteScalarAsync();
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (id is null or DBNull)
            {
                return null;
            }

            await Exec(connection, "UPDATE bare_queue SET state = 'done' WHERE id = " + Convert.ToInt64(id, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
            return elapsed;
        });

        Console.WriteLine($"{backend,-10} queue claim latency: store p50 {P(storeLatencies, 0.50),6:F2} ms p99 {P(storeLatencies, 0.99),6:F2} ms ({storeLatencies.Count} claims)   bare SQL p50 {P(bareLatencies, 0.50),6:F2} ms p99 {P(bareLatencies, 0.99),6:F2} ms ({bareLatencies.Count} claims)");
    }

    private static async Task<long> CountAsync(int workers, double seconds, Func<int, Task> cycle)
    {
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var counts = new long[workers];
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                await cycle(w);
                counts[w]++;
            }
        })));
        return counts.Sum();
    }

    private static async Task<List<TimeSpan>> LatenciesAsync(int workers, double seconds, Func<Task<TimeSpan?>> claim)
    {
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var all = new List<TimeSpan>();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            var mine = new List<TimeSpan>();
            while (Stopwatch.GetTimestamp() < until && await claim() is { } latency)
            {
                mine.Add(latency);
            }

            lock (all)
            {
                all.AddRange(mine);
            }
        })));
        return all;
    }

    private static double P(List<TimeSpan> samples, double quantile)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.Select(s => s.TotalMilliseconds).Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(quantile * sorted.Count) - 1)];
    }

    private static async Task<string> CreateDatabaseAsync(string server)
    {
        var name = "airlock_bench_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await Exec(connection, $"CREATE DATABASE {name}");
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 64 }.ToString();
    }

    private static async Task<DbConnection> OpenNpgsql(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async ValueTask<DbConnection> OpenSqliteAsync(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString());
        await connection.OpenAsync();
        await Exec(connection, "PRAGMA busy_timeout = 30000");
        return connection;
    }

    private static async Task Exec(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Benchmark SQL is built from constants and integers only.
        command.CommandText = sql;
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync();
    }

    private static string? Arg(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
