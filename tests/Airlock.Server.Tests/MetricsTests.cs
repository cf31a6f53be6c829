using System.Globalization;

using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Server.Tests;

/// <summary>
/// /metrics over a real replica, parsed as Prometheus text: every figure is compared with what the store holds for runs
/// the test really applied (the command engine, a slow apply and a failing one), a queue item left waiting and a run
/// seeded in acquiring_locks.
/// </summary>
public sealed class MetricsTests
{
    private static readonly string[] Histograms = ["airlock_apply_duration_seconds", "airlock_queue_wait_seconds", "airlock_lock_wait_seconds"];

    [Fact]
    public async Task Scrapes_within_the_reuse_interval_share_one_read_of_the_store_and_a_later_one_reads_it_again()
    {
        var reuse = TimeSpan.FromSeconds(2);
        await using var server = await ServerHarness.StartAsync(metricsReuse: reuse);
        var client = await server.ClientAsync();
        var first = await client.GetStringAsync("metrics");
        var read = DateTimeOffset.UtcNow;
        Assert.Contains("airlock_runs{state=\"acquiring_locks\"} 0", first, StringComparison.Ordinal);

        await server.Host.Services.Store.Runs.CreateAsync("run-locking", "site", "prod", RunState.AcquiringLocks.WireName(), "alice@example.com", CancellationToken.None);
        var shared = await client.GetStringAsync("metrics");
        if (DateTimeOffset.UtcNow - read < reuse - TimeSpan.FromMilliseconds(200))
        {
            Assert.Equal(first, shared); // the same text, though the store changed
        }

        await Task.Delay(reuse + TimeSpan.FromMilliseconds(200));
        Assert.Contains("airlock_runs{state=\"acquiring_locks\"} 1", await client.GetStringAsync("metrics"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ApiTests.Backends), MemberType = typeof(ApiTests))]
    public async Task Metrics_count_a_failure_by_class_a_waiting_queue_item_and_histograms_of_apply_queue_and_lock_times_from_the_run_events(string backend)
    {
        await using var server = await ServerHarness.StartAsync(backend);
        var client = await server.ClientAsync();
        var store = server.Host.Services.Store;
        var applyScript = Path.Combine(server.Root, "stacks", "site", "apply.sh");
        var original = await File.ReadAllTextAsync(applyScript);

        // A known apply: the site's own knob waits 3 s inside the engine, so the apply itself takes at least that.
        await File.WriteAllTextAsync(applyScript, original.Replace(". ./common.sh\n", ". ./common.sh\nSITE_APPLY_DELAY=3\n", StringComparison.Ordinal));
        server.Git.Commit("a slow apply");
        var slow = await ApiTests.ApplyAsync(server, await ApiTests.PlanAsync(server, "dev"));
        Assert.Equal(RunState.Succeeded, slow.State);

        // A failing apply: the engine exits 1 before changing anything.
        await File.WriteAllTextAsync(applyScript, original.Replace(". ./common.sh\n", ". ./common.sh\necho 'Error: this test makes the apply fail' >&2\nexit 1\n", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(server.Root, "stacks", "site", "content", "extra.html"), "<p>extra</p>\n");
        server.Git.Commit("a failing apply");
        var failed = await ApiTests.ApplyAsync(server, await ApiTests.PlanAsync(server, "dev"));
        Assert.Equal(RunState.Failed, failed.State);
        Assert.False(string.IsNullOrEmpty(failed.FailureClass));

        // A queue item left waiting behind a held lock.
        var key = LockKey.Stack("getting-started", "prod", "local", "local", "site");
        Assert.True((await store.Locks.TryAcquireAsync(key, new LockRequest("run-holder", "alice@example.com", "applying site", TimeSpan.FromMinutes(10)), CancellationToken.None)).Acquired);
        var queue = new QueueDefinition("prod/site", new QueueMatch("prod", ["site"]), 1, null, [], StalePlanPolicy.Fail);
        var enqueued = DateTimeOffset.UtcNow;
        await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-waiting", "prod", "site", QueueDefinition.StandardClass, null, [key], null), CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        var text = await client.GetStringAsync("metrics");
        var scraped = DateTimeOffset.UtcNow;
        var (types, samples) = Parse(text);

        Assert.Equal(1, samples[$"airlock_run_failures{{class=\"{failed.FailureClass}\"}}"]);
        Assert.Equal(1, samples.Where(s => s.Key.StartsWith("airlock_run_failures{", StringComparison.Ordinal)).Sum(s => s.Value));
        Assert.Equal(1, samples["airlock_runs{state=\"failed\"}"]);
        Assert.Equal(1, samples["airlock_runs{state=\"succeeded\"}"]);
        Assert.Equal(1, samples["airlock_queue_depth{queue=\"prod/site\",state=\"waiting\"}"]);
        Assert.Equal(0, samples["airlock_queue_depth{queue=\"prod/site\",state=\"running\"}"]);
        var waited = samples["airlock_queue_waiting_oldest_seconds{queue=\"prod/site\"}"];
        Assert.InRange(waited, 0.4, (scraped - enqueued).TotalSeconds + 1);
        Assert.Equal(waited, samples["airlock_queue_waiting_total_seconds{queue=\"prod/site\"}"], 3);
        Assert.Equal(1, samples["airlock_locks_held{kind=\"stack\"}"]);
        Assert.Equal(0, samples["airlock_lock_waiting_oldest_seconds"]);

        // The histograms hold exactly what the two runs' events say, in cumulative buckets.
        var runs = new[] { slow.RunId, failed.RunId };
        var applies = await PhaseSecondsAsync(server, runs, e => e.To == "applying",
            e => e.From is "applying" or "verifying" or "publishing" && e.To is "succeeded" or "failed" or "cancelled");
        Assert.True(applies[0] >= 3, $"the slow apply took {applies[0]} s");
        var queueWaits = await PhaseSecondsAsync(server, runs, e => e.To == "queued", e => e.From == "queued" && e.To == "acquiring_locks");
        var lockWaits = await PhaseSecondsAsync(server, runs, e => e.To == "acquiring_locks", e => e.From == "acquiring_locks" && e.To != "acquiring_locks");
        foreach (var (name, expected) in Histograms.Zip([applies, queueWaits, lockWaits]))
        {
            Assert.Equal("histogram", types[name]);
            Assert.Equal(2, samples[name + "_count"]);
            Assert.Equal(expected.Sum(), samples[name + "_sum"], 3);
            Assert.Equal(2, samples[name + "_bucket{le=\"+Inf\"}"]);
            var buckets = samples.Where(s => s.Key.StartsWith(name + "_bucket{le=\"", StringComparison.Ordinal) && !s.Key.Contains("+Inf", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(buckets);
            foreach (var (series, count) in buckets)
            {
                var le = double.Parse(series[(name.Length + "_bucket{le=\"".Length)..^2], CultureInfo.InvariantCulture);
                Assert.True(expected.Count(d => d <= le) == count, $"{series} is {count}; the run events give {string.Join(", ", expected)} s");
            }
        }

        // A run waiting for its locks now (seeded in acquiring_locks): the gauge shows how long; the histogram does not count it.
        await store.Runs.CreateAsync("run-locking", "site", "prod", RunState.AcquiringLocks.WireName(), "alice@example.com", CancellationToken.None);
        var locking = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var again = Parse(await client.GetStringAsync("metrics")).Samples;
        Assert.InRange(again["airlock_lock_waiting_oldest_seconds"], 0.4, (DateTimeOffset.UtcNow - locking).TotalSeconds + 1);
        Assert.Equal(2, again["airlock_lock_wait_seconds_count"]);
        Assert.Equal(1, again["airlock_runs{state=\"acquiring_locks\"}"]);

        // The apply histogram is the apply, not request to end: each run started well before it entered applying.
        var requestToEnd = await PhaseSecondsAsync(server, runs, e => e.From is null, e => e.To is "succeeded" or "failed");
        Assert.True(samples["airlock_apply_duration_seconds_sum"] < requestToEnd.Sum() - 0.001, $"apply {samples["airlock_apply_duration_seconds_sum"]} s, request to end {requestToEnd.Sum()} s");
    }

    // Per run, seconds from its first event matching start to its first event matching end.
    private static async Task<double[]> PhaseSecondsAsync(ServerHarness server, string[] runs, Func<RunEvent, bool> start, Func<RunEvent, bool> end)
    {
        var seconds = new List<double>();
        foreach (var run in runs)
        {
            var events = await server.Host.Services.Store.Runs.ReadEventsAsync(run, CancellationToken.None);
            seconds.Add((events.First(end).At - events.First(start).At).TotalSeconds);
        }

        return [.. seconds];
    }

    // The Prometheus text format: "# TYPE name type" lines and "series value" samples (series = name{labels}).
    private static (Dictionary<string, string> Types, Dictionary<string, double> Samples) Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.True(types.TryAdd(parts[2], parts[3]), $"family {parts[2]} declared twice");
            }
            else if (!line.StartsWith('#'))
            {
                var space = line.LastIndexOf(' ');
                Assert.True(samples.TryAdd(line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture)), $"series {line[..space]} twice");
            }
        }

        return (types, samples);
    }
}
