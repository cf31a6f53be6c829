using Airlock.Domain.Evidence;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Testing;

namespace Airlock.Store.Tests;

/// <summary>
/// Exclusion, crash recovery, queue claiming and evidence appends across real OS processes, on each backend.
/// Intervals are recorded with the machine-wide monotonic clock, so they compare across processes.
/// </summary>
public abstract class CrossProcessContract<TBackend> : IDisposable
    where TBackend : StoreBackend, new()
{
    private readonly TBackend _backend = new();
    private readonly TempDir _dir = new("airlock-xproc");

    public void Dispose()
    {
        _backend.Dispose();
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Processes_contending_for_overlapping_keys_never_overlap_tokens_increase_and_all_finish()
    {
        var target = await _backend.NewTargetAsync();
        await (await _backend.OpenAsync(target, TimeProvider.System)).DisposeAsync();
        string[] keys = ["semantic:shared-network/prod", "stack:acme/prod/1/eu/network", "freeze:prod/x", "state:s3://tf/prod"];
        var outputs = new List<string>();
        var runs = new List<string[]>();
        for (var p = 0; p < 4; p++)
        {
            // Each process lists an overlapping subset in a different order; only the global order prevents deadlock.
            var mine = keys.Skip(p).Concat(keys.Take(p)).Take(3).Reverse();
            var output = _dir.File($"locks-{p}.txt");
            outputs.Add(output);
            runs.Add(["locks", _backend.Name, target, $"proc{p}", "3", "5000", output, string.Join(',', mine)]);
        }

        await LockTakerProcess.RunAllAsync(runs, TimeSpan.FromSeconds(90));

        var holds = new List<(string Key, long Token, long Start, long End)>();
        foreach (var output in outputs)
        {
            var lines = await File.ReadAllLinesAsync(output);
            Assert.StartsWith("done ", lines[^1], StringComparison.Ordinal);
            Assert.True(LockTakerProcess.Long(lines[^1][5..]) > 0, $"{output} finished no cycle");
            holds.AddRange(lines[..^1].Select(l => l.Split(' ')).Select(f => (f[0], LockTakerProcess.Long(f[1]), LockTakerProcess.Long(f[2]), LockTakerProcess.Long(f[3]))));
        }

        foreach (var byKey in holds.GroupBy(h => h.Key))
        {
            var ordered = byKey.OrderBy(h => h.Start).ToList();
            Assert.True(ordered.Count > 5, $"too little contention on {byKey.Key}: {ordered.Count}");
            for (var i = 1; i < ordered.Count; i++)
            {
                Assert.True(ordered[i].Start >= ordered[i - 1].End, $"{byKey.Key}: hold with token {ordered[i].Token} began {LockTakerProcess.Ms(ordered[i - 1].End - ordered[i].Start):F3} ms before token {ordered[i - 1].Token} ended");
                Assert.True(ordered[i].Token > ordered[i - 1].Token, $"{byKey.Key}: token {ordered[i].Token} after {ordered[i - 1].Token}");
            }
        }
    }

    [Fact]
    public async Task A_killed_holder_loses_its_lease_and_its_run_is_marked_for_reconciliation()
    {
        var target = await _backend.NewTargetAsync();
        await using var store = await _backend.OpenAsync(target, TimeProvider.System);
        var key = LockKey.Stack("acme", "prod", "1", "eu", "network");
        await store.Runs.CreateAsync("run-crash", "network", "prod", "applying", "alice", default);

        using var holder = LockTakerProcess.Start("hold", _backend.Name, target, "run-crash", "1500", key.Value);
        var line = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(line);
        Assert.StartsWith("acquired ", line, StringComparison.Ordinal);
        var deadToken = LockTakerProcess.Long(line["acquired ".Length..]);

        // Alive and heartbeating: the lease outlives its initial 1.5 s.
        await Task.Delay(2500);
        Assert.False((await store.Locks.TryAcquireAsync(key, new LockRequest("run-next", "bob", "next", TimeSpan.FromSeconds(10)), default)).Acquired);

        holder.Kill(entireProcessTree: true); // SIGKILL: no release, no goodbye.
        await holder.WaitForExitAsync();

        var manager = new Airlock.Store.Locks.LockManager(store.Locks, TimeProvider.System, new() { RetryDelay = TimeSpan.FromMilliseconds(50) });
        await using var next = await manager.AcquireAsync([key], new LockRequest("run-next", "bob", "next", TimeSpan.FromSeconds(10)), TimeSpan.FromSeconds(10), default);
        Assert.True(next.FencingToken(key) > deadToken);
        var run = await store.Runs.GetAsync("run-crash", default);
        Assert.Equal(RunState.NeedsReconciliation.WireName(), run!.State);
        Assert.Contains(await store.Runs.ReadEventsAsync("run-crash", default), e => e.To == RunState.NeedsReconciliation.WireName() && e.Detail.Contains("expired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_killed_claimer_frees_its_queue_slot_when_the_claim_lease_lapses_and_shows_as_abandoned()
    {
        var target = await _backend.NewTargetAsync();
        var queue = new QueueDefinition("prod-crash", new QueueMatch("prod", []), 1, null, ["emergency", "standard"], StalePlanPolicy.Fail);
        await using var store = await _backend.OpenAsync(target, TimeProvider.System);
        var first = await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-crash", "prod", "network", "standard", null, []), default);
        var second = await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-next", "prod", "network", "standard", null, []), default);

        using var claimer = LockTakerProcess.Start("claim-hold", _backend.Name, target, queue.Name, "1500");
        var line = await claimer.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(line);
        var fields = line.Split(' ');
        Assert.Equal(["claimed", first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], fields[..2]);
        var deadClaimer = fields[2];

        // Alive and heartbeating: the claim outlives its initial 1.5 s and the concurrency-1 queue stays full.
        await Task.Delay(2500);
        Assert.Null(await store.Queues.ClaimAsync(queue, "next-worker", TimeSpan.FromSeconds(30), default));

        claimer.Kill(entireProcessTree: true); // SIGKILL: no completion, no goodbye.
        await claimer.WaitForExitAsync();
        var killedAt = TimeProvider.System.GetUtcNow();

        QueueItem? next = null;
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(15);
        while (next is null && DateTimeOffset.UtcNow < deadline)
        {
            next = await store.Queues.ClaimAsync(queue, "next-worker", TimeSpan.FromSeconds(30), default);
            await Task.Delay(next is null ? 50 : 0);
        }

        Assert.NotNull(next);
        Assert.Equal(second.Id, next.Id);
        var dead = (await store.Queues.GetAsync(first.Id, default))!;
        Assert.Equal(QueueItemState.Claimed, dead.State); // never silently deleted or completed
        Assert.True(dead.ClaimedUntil <= next.ClaimedAt, $"claimed {next.ClaimedAt:O} before the dead claim lapsed {dead.ClaimedUntil:O}");
        Assert.True(dead.ClaimedUntil > killedAt - TimeSpan.FromSeconds(2), "the dead claim must have been renewed until shortly before the kill");

        var view = Assert.Single(QueueBoard.Build(await store.Queues.ListActiveAsync(default), [queue], [], TimeProvider.System.GetUtcNow()));
        Assert.Equal("run-next", Assert.Single(view.Current).Item.RunId);
        var abandoned = Assert.Single(view.Abandoned);
        Assert.Equal("run-crash", abandoned.Item.RunId);
        Assert.StartsWith($"abandoned by {deadClaimer} at ", abandoned.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Claiming_processes_never_claim_an_item_twice_nor_exceed_the_queue_concurrency()
    {
        var target = await _backend.NewTargetAsync();
        const int concurrency = 2;
        const int items = 40;
        var queue = new QueueDefinition("prod-net", new QueueMatch("prod", []), concurrency, null, ["emergency", "standard"], StalePlanPolicy.Fail);
        await using (var store = await _backend.OpenAsync(target, TimeProvider.System))
        {
            for (var i = 0; i < items; i++)
            {
                await store.Queues.EnqueueAsync(queue, new EnqueueRequest($"r{i}", "prod", "network", i % 5 == 0 ? "emergency" : "standard", null, []), default);
            }
        }

        var outputs = Enumerable.Range(0, 3).Select(p => _dir.File($"claims-{p}.txt")).ToList();
        var barrier = Directory.CreateDirectory(_dir.File("claim-barrier")).FullName;
        await LockTakerProcess.RunAllAsync(outputs.Select(o => new[] { "claim", _backend.Name, target, queue.Name, concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), o, barrier, outputs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) }), TimeSpan.FromSeconds(90));

        var claims = new List<(long Id, long Start, long End)>();
        foreach (var output in outputs)
        {
            var lines = await File.ReadAllLinesAsync(output);
            Assert.DoesNotContain(lines, l => l.StartsWith("complete-failed", StringComparison.Ordinal));
            claims.AddRange(lines.Select(l => l.Split(' ')).Select(f => (LockTakerProcess.Long(f[0]), LockTakerProcess.Long(f[1]), LockTakerProcess.Long(f[2]))));
        }

        Assert.Equal(items, claims.Count);
        Assert.Equal(items, claims.Select(c => c.Id).Distinct().Count());
        Assert.True(outputs.Count(o => new FileInfo(o).Length > 0) >= 2, "the claims were not spread over several processes");
        // Sweep the recorded intervals: at no instant more than `concurrency` items were being worked on.
        var events = claims.SelectMany(c => new[] { (At: c.Start, Delta: 1), (At: c.End, Delta: -1) }).OrderBy(e => e.At).ThenBy(e => e.Delta);
        var running = 0;
        var peak = 0;
        foreach (var (_, delta) in events)
        {
            running += delta;
            peak = Math.Max(peak, running);
        }

        Assert.True(peak <= concurrency, $"{peak} items ran at once; the limit is {concurrency}");
    }

    [Fact]
    public async Task Processes_racing_to_start_a_freeze_let_exactly_one_win_and_the_others_name_it()
    {
        var target = await _backend.NewTargetAsync();
        await (await _backend.OpenAsync(target, TimeProvider.System)).DisposeAsync();
        // Far enough ahead that every process is up and waiting (dotnet start-up on a loaded 2-core machine).
        var startAt = DateTimeOffset.UtcNow.AddSeconds(6).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var processes = Enumerable.Range(0, 4).Select(_ => LockTakerProcess.Start("freeze", _backend.Name, target, "prod", startAt)).ToList();
        var lines = new List<string>();
        try
        {
            foreach (var process in processes)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
                Assert.True(process.ExitCode == 0, $"LockTaker exited {process.ExitCode}: {await stderr}");
                lines.Add((await stdout).Trim());
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }

        var won = Assert.Single(lines, l => l.StartsWith("won ", StringComparison.Ordinal));
        var winnerId = won["won ".Length..];
        Assert.All(lines.Where(l => l != won), l => Assert.Equal($"refused {winnerId}", l));
        await using var store = await _backend.OpenAsync(target, TimeProvider.System);
        var active = await store.Freezes.ActiveAsync("prod", default);
        Assert.Equal(LockTakerProcess.Long(winnerId), active!.Id);
        Assert.Single(await store.Freezes.ListAsync(10, default));
    }

    [Fact]
    public async Task Evidence_appends_from_several_processes_form_one_linear_chain()
    {
        var target = await _backend.NewTargetAsync();
        await (await _backend.OpenAsync(target, TimeProvider.System)).DisposeAsync();
        await LockTakerProcess.RunAllAsync(Enumerable.Range(0, 3).Select(_ => new[] { "evidence", _backend.Name, target, "40" }), TimeSpan.FromSeconds(90));
        await using var store = await _backend.OpenAsync(target, TimeProvider.System);
        var records = new List<ChainRecord>();
        await foreach (var record in store.Evidence.ReadAsync(1, default))
        {
            records.Add(record);
        }

        ChainRecords.AssertLinear(records, 120);
    }
}

/// <summary>Cross-process behaviour on SQLite files.</summary>
public sealed class SqliteCrossProcess : CrossProcessContract<SqliteBackend>
{
}

/// <summary>Cross-process behaviour on the real PostgreSQL server.</summary>
public sealed class PostgresCrossProcess : CrossProcessContract<PostgresBackend>
{
}
