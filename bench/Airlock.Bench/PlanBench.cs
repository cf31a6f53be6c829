using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using Airlock.Domain.Plans;

namespace Airlock.Bench;

/// <summary>
/// `plans` suite: synthetic plans built from the real resource_changes of every fixture, then
/// MB/s of the summary reader, MB/s of a bare Utf8JsonReader pass (the ceiling), peak memory of
/// a child process that only summarises, and the time jq takes to count actions.
/// </summary>
internal static class PlanBench
{
    private const int BufferSize = 1 << 20;
    private static readonly string[] TerraformFolders = ["tofu-show-json", "realistic-plans"];
    private const string JqFilter = """[.resource_changes[].change.actions|join(",")]|group_by(.)|map({(.[0]):length})|add""";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--child", var childPath])
        {
            return Child(childPath);
        }

        if (args is ["--airlock", var airlockPath])
        {
            // The real CLI as users run it (its runtimeconfig included): peak RSS, wall and CPU seconds.
            var (rss, wall, cpu) = await RunAirlockAsync(airlockPath);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"airlock summarize --format json: peak RSS {rss:F1} MiB, {wall:F2} s wall, {cpu:F2} s CPU"));
            return 0;
        }

        if (args is ["--dump", .. var dumpPaths])
        {
            // Behaviour check while tuning: the full summary JSON and digest of each file, to diff before/after.
            foreach (var dumpPath in dumpPaths)
            {
                using var stream = OpenSequential(dumpPath);
                var summary = PlanReader.Read(stream);
                Console.WriteLine($"{dumpPath} {PlanSummaryJson.Digest(summary)} {summary.ArtifactDigest}");
                Console.WriteLine(PlanSummaryJson.ToJson(summary).ToJsonString());
            }

            return 0;
        }

        if (args is ["--repeat", var repeatPath, var times])
        {
            // For profilers (perf with DOTNET_PerfMapEnabled=1): summarize only, N times.
            for (var i = 0; i < int.Parse(times, CultureInfo.InvariantCulture); i++)
            {
                using var stream = OpenSequential(repeatPath);
                PlanReader.Read(stream);
            }

            return 0;
        }

        if (args is ["--time", var timePath, .. var timeRest])
        {
            return TimePairs(timePath, timeRest is [var rounds] ? int.Parse(rounds, CultureInfo.InvariantCulture) : 9);
        }

        var large = args.Contains("--large");
        var directory = Path.Combine(Path.GetTempPath(), "airlock-plan-bench");
        Directory.CreateDirectory(directory);
        var pool = LoadPool();
        Console.WriteLine($"pool: {pool.Count} real resource_changes from {FixtureFiles().Count()} fixtures; {Environment.ProcessorCount} cores");

        var cases = new List<(string Name, int Resources)> { ("10k", 10_000), ("100k", 100_000) };
        if (large)
        {
            cases.Add(("200MB", 0));
        }

        Console.WriteLine("| plan | resources | size MB | summarize MB/s | ceiling MB/s | ratio | airlock peak RSS MB | child managed heap MB (summary kept) | jq s | airlock s |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (name, resources) in cases)
        {
            var path = Path.Combine(directory, $"plan-{name}.json");
            var count = resources > 0 ? resources : ResourcesForBytes(pool, 200L * 1024 * 1024);
            Generate(path, pool, count);
            var size = new FileInfo(path).Length / (1024.0 * 1024.0);
            if (resources == 0 && size < 190)
            {
                // The size estimate is rough: scale once to land near 200 MB.
                count = (int)(count * 200 / size);
                Generate(path, pool, count);
                size = new FileInfo(path).Length / (1024.0 * 1024.0);
            }

            var pairs = MeasurePairs(path, rounds: 5, expectedResources: count);
            var (_, managed, _) = await RunChildAsync(path);
            var (peakRss, childSeconds, _) = await RunAirlockAsync(path);
            var jq = await TimeProcessAsync("/usr/bin/jq", JqFilter, path);

            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {name} | {count} | {size:F1} | {size / pairs.Summarize:F0} | {size / pairs.Ceiling:F0} | {pairs.Ratio:F2} ({pairs.MinRatio:F2}–{pairs.MaxRatio:F2}) | {peakRss:F0} | {managed:F1} | {jq:F2} | {childSeconds:F2} |"));
        }

        Console.WriteLine("summarize and ceiling: in-process, 2 s of warm-up passes, then 5 pairs of one summarize and one ceiling pass (page cache warm): median speeds; ratio = median (range) of the pairs' summarize speed / ceiling speed.");
        Console.WriteLine("airlock peak RSS: max RSS (GNU time) of the real `airlock summarize --format json PLAN` with its runtimeconfig, output discarded.");
        Console.WriteLine("child managed heap: GC.GetTotalMemory(true) in a process that only read the plan, summary kept (its size).");
        Console.WriteLine("jq s and airlock s: wall time of one process each (jq counting actions; airlock summarising), start-up included.");
        return 0;
    }

    private static IEnumerable<string> FixtureFiles()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "global.json")))
        {
            dir = dir.Parent;
        }

        var fixtures = Path.GetFullPath(Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root not found"), "..", "shared", "fixtures"));
        return TerraformFolders.SelectMany(folder => Directory.GetFiles(Path.Combine(fixtures, folder), "*.json")).Order(StringComparer.Ordinal);
    }

    private static List<JsonElement> LoadPool()
    {
        var pool = new List<JsonElement>();
        foreach (var file in FixtureFiles())
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            if (document.RootElement.TryGetProperty("resource_changes", out var changes))
            {
                pool.AddRange(changes.EnumerateArray().Select(c => c.Clone()));
            }
        }

        return pool;
    }

    private static int ResourcesForBytes(List<JsonElement> pool, long bytes)
    {
        // Both resource_changes and planned_values carry each resource: about twice its raw size.
        var average = pool.Average(e => (double)e.GetRawText().Length) * 2;
        return (int)(bytes / average);
    }

    /// <summary>A plan shaped like real `show -json` output: planned_values, resource_changes, prior_state, configuration.</summary>
    private static void Generate(string path, List<JsonElement> pool, int count)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
        using var writer = new Utf8JsonWriter(file);
        writer.WriteStartObject();
        writer.WriteString("format_version", "1.2");
        writer.WriteString("terraform_version", "1.9.5");
        writer.WriteStartObject("planned_values");
        writer.WriteStartObject("root_module");
        writer.WriteStartArray("resources");
        for (var i = 0; i < count; i++)
        {
            var source = pool[i % pool.Count];
            writer.WriteStartObject();
            writer.WriteString("address", Address(source, i));
            foreach (var name in (string[])["mode", "type", "name", "provider_name"])
            {
                if (source.TryGetProperty(name, out var value))
                {
                    writer.WritePropertyName(name);
                    value.WriteTo(writer);
                }
            }

            writer.WriteNumber("schema_version", 0);
            writer.WritePropertyName("values");
            (source.GetProperty("change").TryGetProperty("after", out var after) ? after : default).WriteTo(writer);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteStartArray("resource_changes");
        for (var i = 0; i < count; i++)
        {
            var source = pool[i % pool.Count];
            writer.WriteStartObject();
            foreach (var property in source.EnumerateObject())
            {
                if (property.Name == "address")
                {
                    writer.WriteString("address", Address(source, i));
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartObject("prior_state");
        writer.WriteString("format_version", "1.0");
        writer.WriteEndObject();
        writer.WriteStartObject("configuration");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string Address(JsonElement source, int i) => $"module.bench{i}.{source.GetProperty("address").GetString()}";

    private static FileStream OpenSequential(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);

    /// <summary>The ceiling: every token read once with the same buffer size, nothing kept.</summary>
    private static void BareReaderPass(string path)
    {
        using var stream = OpenSequential(path);
        var buffer = new byte[BufferSize];
        var state = new JsonReaderState();
        var filled = 0;
        var eof = false;
        long tokens = 0;
        while (!eof || filled > 0)
        {
            var read = eof ? 0 : stream.Read(buffer, filled, buffer.Length - filled);
            eof |= read == 0;
            filled += read;
            var reader = new Utf8JsonReader(buffer.AsSpan(0, filled), eof, state);
            while (reader.Read())
            {
                tokens++;
            }

            state = reader.CurrentState;
            var consumed = (int)reader.BytesConsumed;
            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
            if (eof)
            {
                break;
            }
        }

        if (tokens == 0)
        {
            throw new InvalidOperationException("no tokens");
        }
    }

    /// <summary>
    /// `plans --time FILE [ROUNDS]`, the loop for tuning: summarize and the ceiling alternate pass by
    /// pass, so a drift of the machine's speed (a shared VM's ceiling alone swung 0.3–0.5 CPU s per pass
    /// within minutes) hits both sides of each pair; the ratio reported is the median of the pairs'.
    /// </summary>
    private static int TimePairs(string path, int rounds)
    {
        var mb = new FileInfo(path).Length / (1024.0 * 1024.0);
        var pairs = MeasurePairs(path, rounds, expectedResources: null);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{rounds} pairs: ratio median {pairs.Ratio:F2} (range {pairs.MinRatio:F2}-{pairs.MaxRatio:F2}); summarize {mb / pairs.Summarize:F0} MB/s, ceiling {mb / pairs.Ceiling:F0} MB/s (medians)"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"CPU s per pass (medians): summarize {pairs.SummarizeCpu:F2}, ceiling {pairs.CeilingCpu:F2}, summarize/ceiling {pairs.CpuRatio:F2}; allocated {pairs.AllocatedPerPass / (1024.0 * 1024.0):F0} MB per summarize, GCs per pass gen0/1/2 {pairs.GcsPerPass[0]:F1}/{pairs.GcsPerPass[1]:F1}/{pairs.GcsPerPass[2]:F1}, GC pauses {pairs.PausePerPass.TotalSeconds:F3} s per pass"));
        return 0;
    }

    /// <summary>What <see cref="MeasurePairs"/> found: medians over the pairs (seconds), and per-pass averages of the summarize side.</summary>
    private sealed record PairFigures(
        double Ratio,
        double MinRatio,
        double MaxRatio,
        double Summarize,
        double Ceiling,
        double SummarizeCpu,
        double CeilingCpu,
        double CpuRatio,
        double AllocatedPerPass,
        double[] GcsPerPass,
        TimeSpan PausePerPass);

    /// <summary>
    /// Warm-up passes of both sides for 2 s (JIT and tiering, page cache), then <paramref name="rounds"/> pairs of one summarize
    /// pass and one ceiling pass, so a drift of the machine's speed hits both sides of each pair.
    /// </summary>
    private static PairFigures MeasurePairs(string path, int rounds, int? expectedResources)
    {
        void Summarize()
        {
            using var stream = OpenSequential(path);
            var summary = PlanReader.Read(stream);
            if (expectedResources is { } expected && summary.Resources.Count != expected)
            {
                throw new InvalidOperationException("resource count mismatch");
            }
        }

        // Warm-up until the hot code is tiered up: a 10k plan's pass takes ~0.05 s, and a handful of them
        // still ran partly tier-0 code, reading as a third of the speed a user's longer pass sees.
        var warming = Stopwatch.StartNew();
        do
        {
            Summarize();
            BareReaderPass(path);
        }
        while (warming.Elapsed < TimeSpan.FromSeconds(2));

        var pairs = new List<(double Ratio, double CpuRatio, double Summarize, double Ceiling, double SummarizeCpu, double CeilingCpu)>();
        var allocated = 0L;
        var paused = TimeSpan.Zero;
        var gcs = new int[3];
        for (var i = 0; i < rounds; i++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var pausedBefore = GC.GetTotalPauseDuration();
            var collections = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
            var (sWall, sCpu) = Timed(Summarize);
            allocated += GC.GetTotalAllocatedBytes(precise: true) - before;
            paused += GC.GetTotalPauseDuration() - pausedBefore;
            for (var g = 0; g < 3; g++)
            {
                gcs[g] += GC.CollectionCount(g) - collections[g];
            }

            var (cWall, cCpu) = Timed(() => BareReaderPass(path));
            pairs.Add((cWall / sWall, sCpu / cCpu, sWall, cWall, sCpu, cCpu));
        }

        double Median(Func<(double Ratio, double CpuRatio, double Summarize, double Ceiling, double SummarizeCpu, double CeilingCpu), double> pick)
        {
            var values = pairs.Select(pick).Order().ToList();
            return values[values.Count / 2];
        }

        return new PairFigures(
            Median(p => p.Ratio),
            pairs.Min(p => p.Ratio),
            pairs.Max(p => p.Ratio),
            Median(p => p.Summarize),
            Median(p => p.Ceiling),
            Median(p => p.SummarizeCpu),
            Median(p => p.CeilingCpu),
            Median(p => p.CpuRatio),
            allocated / (double)rounds,
            [.. gcs.Select(g => g / (double)rounds)],
            paused / rounds);
    }

    private static (double Wall, double Cpu) Timed(Action action)
    {
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        action();
        var wall = watch.Elapsed.TotalSeconds;
        self.Refresh();
        return (wall, (self.TotalProcessorTime - cpu).TotalSeconds);
    }

    /// <summary>Child mode: read the plan once, keep the summary, report peak RSS and the managed heap.</summary>
    private static int Child(string path)
    {
        using var stream = OpenSequential(path);
        var summary = PlanReader.Read(stream);
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{self.PeakWorkingSet64} {managed} {summary.Resources.Count}"));
        return 0;
    }

    private static async Task<(double PeakRssMb, double ManagedMb, double Seconds)> RunChildAsync(string path)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(PlanBench).Assembly.Location);
        }

        foreach (var arg in (string[])["plans", "--child", path])
        {
            psi.ArgumentList.Add(arg);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seconds = watch.Elapsed.TotalSeconds;
        var parts = output.Trim().Split(' ');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture) / (1024.0 * 1024.0), long.Parse(parts[1], CultureInfo.InvariantCulture) / (1024.0 * 1024.0), seconds);
    }

    /// <summary>
    /// Runs airlock.dll (copied beside the bench) under GNU time, which reports the child's peak
    /// RSS from wait4 (ru_maxrss): exact, unlike polling /proc while it runs.
    /// </summary>
    private static async Task<(double PeakRssMb, double Wall, double Cpu)> RunAirlockAsync(string path)
    {
        var report = Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in (string[])["-f", "%M %e %U %S", "-o", report, "dotnet", Path.Combine(AppContext.BaseDirectory, "airlock.dll"), "summarize", "--format", "json", path])
            {
                psi.ArgumentList.Add(arg);
            }

            using var process = Process.Start(psi)!;
            await process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"airlock summarize exited {process.ExitCode}");
            }

            var parts = (await File.ReadAllTextAsync(report)).Trim().Split('\n')[^1].Split(' ').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return (parts[0] / 1024.0, parts[1], parts[2] + parts[3]);
        }
        finally
        {
            File.Delete(report);
        }
    }

    private static async Task<double> TimeProcessAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return watch.Elapsed.TotalSeconds;
    }
}
