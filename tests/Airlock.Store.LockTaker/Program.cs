// Helper process for the cross-process store tests. Records what it held or claimed, with monotonic
// timestamps (Stopwatch is CLOCK_MONOTONIC on Linux, shared by every process on the machine), so the test
// can check that no two holders overlapped.
//   locks    <backend> <target> <runId> <seconds> <leaseMs> <out> <key,key,...>
//   hold     <backend> <target> <runId> <leaseMs> <key>              (prints "acquired <token>", then waits to be killed)
//   claim    <backend> <target> <queue> <concurrency> <out> <barrierDir> <processes>
//                                                                   (starts claiming once all <processes> are ready)
//   claim-hold <backend> <target> <queue> <leaseMs>                (claims on a concurrency-1 queue, heartbeats the claim,
//                                                                    prints "claimed <id> <claimer>", then waits to be killed)
//   evidence <backend> <target> <count>
//   freeze   <backend> <target> <environment> <startAtUnixMs>        (prints "won <id>" or "refused <active id>")
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

using Airlock.Domain.Evidence;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Serialization;
using Airlock.Store;
using Airlock.Store.Locks;
using Airlock.Store.Queues;
using Airlock.Store.Sql;

var mode = args[0];
await using var store = await OpenAsync(args[1], args[2]);
var manager = new LockManager(store.Locks, TimeProvider.System, new LockManagerOptions { RetryDelay = TimeSpan.FromMilliseconds(5) });
switch (mode)
{
    case "locks":
        {
            var runId = args[3];
            var until = Stopwatch.GetTimestamp() + (long)(double.Parse(args[4], CultureInfo.InvariantCulture) * Stopwatch.Frequency);
            var lease = TimeSpan.FromMilliseconds(int.Parse(args[5], CultureInfo.InvariantCulture));
            var keys = args[7].Split(',').Select(LockKey.Parse).ToList();
            await using var output = new StreamWriter(args[6]);
            var cycle = 0;
            // At least a minimum number of cycles, so a slow start on a loaded machine still yields real contention.
            while (Stopwatch.GetTimestamp() < until || cycle < 15)
            {
                // Keys are handed over in this process's own listed order; the manager must impose the global one.
                await using (var handle = await manager.AcquireAsync(keys, new LockRequest($"{runId}-{cycle}", "locktaker", "contention test", lease), TimeSpan.FromSeconds(30), CancellationToken.None))
                {
                    var start = Stopwatch.GetTimestamp();
                    await Task.Delay(Random.Shared.Next(1, 4));
                    var end = Stopwatch.GetTimestamp();
                    foreach (var held in handle.Leases)
                    {
                        await output.WriteLineAsync($"{held.Key.Value} {held.FencingToken} {start} {end}");
                    }
                }

                cycle++;
            }

            await output.WriteLineAsync($"done {cycle}");
            return 0;
        }

    case "hold":
        {
            var key = LockKey.Parse(args[5]);
            var handle = await manager.AcquireAsync([key], new LockRequest(args[3], "locktaker", "hold until killed", TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture))), TimeSpan.FromSeconds(30), CancellationToken.None);
            Console.WriteLine($"acquired {handle.FencingToken(key)}");
            await Task.Delay(Timeout.Infinite, handle.LeaseLost).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return 3;
        }

    case "claim":
        {
            var queue = new QueueDefinition(args[3], new QueueMatch("prod", []), int.Parse(args[4], CultureInfo.InvariantCulture), null, ["emergency", "standard"], StalePlanPolicy.Fail);
            await using var output = new StreamWriter(args[5]);
            // A start barrier: without it the first process to finish starting (seconds, on a loaded 2-core
            // machine) can drain the whole queue before the others claim anything, and nothing races.
            await File.WriteAllTextAsync(Path.Combine(args[6], $"ready-{Environment.ProcessId}"), "");
            var processes = int.Parse(args[7], CultureInfo.InvariantCulture);
            var barrierDeadline = DateTimeOffset.UtcNow.AddSeconds(60);
            while (Directory.GetFiles(args[6], "ready-*").Length < processes && DateTimeOffset.UtcNow < barrierDeadline)
            {
                await Task.Delay(10);
            }

            var idle = 0;
            while (idle < 50)
            {
                var item = await store.Queues.ClaimAsync(queue, $"pid-{Environment.ProcessId}", CancellationToken.None);
                if (item is null)
                {
                    idle++;
                    await Task.Delay(10);
                    continue;
                }

                idle = 0;
                var start = Stopwatch.GetTimestamp();
                await Task.Delay(Random.Shared.Next(2, 8));
                var end = Stopwatch.GetTimestamp();
                // Recorded before completing: the slot is only free once CompleteAsync commits.
                await output.WriteLineAsync($"{item.Id} {start} {end}");
                await output.FlushAsync();
                if (!await store.Queues.CompleteAsync(item.Id, "succeeded", CancellationToken.None))
                {
                    await output.WriteLineAsync($"complete-failed {item.Id}");
                }
            }

            return 0;
        }

    case "claim-hold":
        {
            var queue = new QueueDefinition(args[3], new QueueMatch("prod", []), 1, null, ["emergency", "standard"], StalePlanPolicy.Fail);
            var lease = TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture));
            var item = await store.Queues.ClaimAsync(queue, $"pid-{Environment.ProcessId}", lease, CancellationToken.None);
            if (item is null)
            {
                Console.WriteLine("nothing to claim");
                return 2;
            }

            await using var keeper = QueueClaimKeeper.Start(store.Queues, TimeProvider.System, item, lease);
            Console.WriteLine($"claimed {item.Id} {item.ClaimedBy}");
            await Task.Delay(Timeout.Infinite, keeper.ClaimLost).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return 3;
        }

    case "evidence":
        {
            var count = int.Parse(args[3], CultureInfo.InvariantCulture);
            for (var i = 0; i < count; i++)
            {
                await store.Evidence.AppendAsync(head => BuildRecord(head, $"pid-{Environment.ProcessId}-{i}"), CancellationToken.None);
            }

            return 0;
        }

    case "freeze":
        {
            // Every process waits for the same wall-clock instant, so the starts really race.
            var startAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(args[4], CultureInfo.InvariantCulture));
            var wait = startAt - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            try
            {
                var freeze = await store.Freezes.StartAsync(args[3], "cross-process race", $"pid-{Environment.ProcessId}", DateTimeOffset.UtcNow, CancellationToken.None);
                Console.WriteLine($"won {freeze.Id}");
            }
            catch (Airlock.Domain.Storage.FreezeAlreadyActiveException refused)
            {
                Console.WriteLine($"refused {refused.Active.Id}");
            }

            return 0;
        }

    default:
        await Console.Error.WriteLineAsync($"unknown mode {mode}");
        return 2;
}

static Task<SqlAirlockStore> OpenAsync(string backend, string target) => backend switch
{
    "sqlite" => AirlockStores.OpenSqliteAsync(target, new StoreOptions(), CancellationToken.None),
    "postgres" => AirlockStores.OpenPostgresAsync(target, new StoreOptions(), CancellationToken.None),
    _ => throw new ArgumentException($"unknown backend {backend}"),
};

// A minimal chain record (the real hashing/signing lives in the evidence component): hash over the other fields.
static ChainRecord BuildRecord(ChainRecord? head, string note)
{
    var sequence = (head?.Sequence ?? 0) + 1;
    var previous = head?.Hash ?? "sha256:" + new string('0', 64);
    var at = DateTimeOffset.UtcNow;
    var payload = CanonicalJson.ToCanonicalString(new JsonObject { ["note"] = note });
    var hash = CanonicalJson.Sha256Digest(new JsonObject { ["sequence"] = sequence, ["previous"] = previous, ["payload"] = payload, ["at"] = at.ToString("O", CultureInfo.InvariantCulture) });
    return new ChainRecord(sequence, "test", null, at, payload, previous, hash);
}
