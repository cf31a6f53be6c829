using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

using Airlock.Application;
using Airlock.Application.Plans;
using Airlock.Application.Releases;
using Airlock.Application.Tokens;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;

/// <summary>
/// `server` suite: a real `airlock serve` process over a store seeded with N runs (default 10,000, with events
/// and details), real plans (default 100, made by the plan service, each with its evidence event) and real
/// releases (default 20, with no stack changed), loaded at a constant arrival rate (default 200 requests/s, open
/// loop: latency counts from the intended send time, so a stalled server cannot hide queueing) across dashboard
/// pages, API routes, readiness and metrics; then a closed loop with 16 connections for the throughput ceiling.
/// Prints p50/p99/max and errors (anything but 2xx, redirects included) per path and overall.
/// Usage: server [--runs N] [--plans N] [--releases N] [--rate R] [--seconds S] [--database PGURL] [--paths p1,p2,…]
/// Target (issue 8): p99 &lt; 50 ms at 200 requests/s on this 2-core machine.
/// </summary>
internal static partial class ServerBench
{
    // Dashboard pages, then API routes, then probes; {run}, {stack} and {plan} pick seeded values.
    private static readonly string[] DefaultPaths =
    [
        "",
        "queue",
        "locks",
        "runs",
        "runs/{run}",
        "plans/{plan}",
        "releases",
        "evidence",
        "delivery",
        "api/runs?limit=50",
        "api/runs/{run}",
        "api/runs?stack={stack}&environment=prod&limit=20",
        "api/plans?limit=50",
        "api/queue",
        "api/locks",
        "api/evidence?limit=50",
        "readyz",
        "metrics",
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(Arg(args, "--runs") ?? "10000", CultureInfo.InvariantCulture);
        var plans = int.Parse(Arg(args, "--plans") ?? "100", CultureInfo.InvariantCulture);
        var releases = int.Parse(Arg(args, "--releases") ?? "20", CultureInfo.InvariantCulture);
        var rate = int.Parse(Arg(args, "--rate") ?? "200", CultureInfo.InvariantCulture);
        var seconds = int.Parse(Arg(args, "--seconds") ?? "20", CultureInfo.InvariantCulture);
        var database = Arg(args, "--database");
        var paths = Arg(args, "--paths")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? DefaultPaths;
        var root = Path.Combine(Path.GetTempPath(), "airlock-server-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            CreateWorkspace(root);
            var environment = new Dictionary<string, string?> { ["AIRLOCK_DATABASE_URL"] = database };
            var seeding = Stopwatch.StartNew();
            string secret;
            List<RunRecord> seeded;
            List<string> planIds;
            await using (var session = await WorkspaceSession.OpenAsync(root, database, name => environment.GetValueOrDefault(name), TimeProvider.System, CancellationToken.None))
            {
                seeded = await SeedAsync(session.Services.Store, runs);
                planIds = await SeedPlansAsync(session.Services, plans);
                await SeedReleasesAsync(session.Services, releases);
                secret = (await new TokenService(session.Services.Store.Tokens, TimeProvider.System, session.Services.Evidence).CreateAsync("bench@example.com", ["platform"], "bench", null, CancellationToken.None)).Secret;
                var evidence = 0;
                await foreach (var _ in session.Services.Store.Evidence.ReadAsync(0, CancellationToken.None))
                {
                    evidence++;
                }

                Console.WriteLine($"server bench: {runs} runs, {plans} plans, {releases} releases, {evidence} evidence records seeded in {seeding.Elapsed.TotalSeconds:F1}s ({session.Services.Store.Backend}), {Environment.ProcessorCount} cores");
            }

            using var server = StartServer(root, database);
            try
            {
                var address = await WaitForAddressAsync(server);
                // No redirects followed: a page that sends the client to /login is an error, not a fast 200.
                using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false }) { BaseAddress = new Uri(address + "/"), Timeout = TimeSpan.FromSeconds(30) };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
                var random = new Random(42);
                string Next(string template) => template
                    .Replace("{run}", seeded[random.Next(seeded.Count)].Id, StringComparison.Ordinal)
                    .Replace("{stack}", seeded[random.Next(seeded.Count)].Stack, StringComparison.Ordinal)
                    .Replace("{plan}", planIds[random.Next(planIds.Count)], StringComparison.Ordinal);

                var refused = 0;
                foreach (var path in paths)
                {
                    using var probe = await client.GetAsync(Next(path));
                    refused += probe.IsSuccessStatusCode ? 0 : 1;
                    Console.WriteLine($"  {(int)probe.StatusCode} /{path}");
                }

                if (refused > 0)
                {
                    Console.WriteLine($"server bench: {refused} path(s) did not answer 2xx; the figures below count them as errors");
                }

                await OpenLoopAsync(client, paths, Next, rate, seconds: 3, print: false); // warm-up: JIT, pools, caches
                Console.WriteLine($"open loop: {rate} requests/s for {seconds}s, paths round-robin");
                var overall = await OpenLoopAsync(client, paths, Next, rate, seconds, print: true);
                var verdict = overall.P99 < 50 ? "PASS" : "FAIL";
                Console.WriteLine($"target p99 < 50 ms at {rate}/s: {verdict} (p99 {overall.P99:F1} ms)");
                await ClosedLoopAsync(client, paths, Next, connections: 16, seconds: Math.Max(5, seconds / 2));
                return 0;
            }
            finally
            {
                server.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed record Figures(double P50, double P99, double Max, int Count, int Errors);

    private static async Task<Figures> OpenLoopAsync(HttpClient client, string[] paths, Func<string, string> next, int rate, int seconds, bool print)
    {
        var total = rate * seconds;
        var samples = new (int Path, double Ms, bool Ok)[total];
        var clock = Stopwatch.StartNew();
        var pending = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var intended = TimeSpan.FromSeconds((double)i / rate);
            var wait = intended - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var index = i;
            var pathIndex = i % paths.Length;
            var url = next(paths[pathIndex]);
            pending.Add(Task.Run(async () =>
            {
                bool ok;
                try
                {
                    using var response = await client.GetAsync(url, HttpCompletionOption.ResponseContentRead);
                    ok = response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }

                samples[index] = (pathIndex, (clock.Elapsed - intended).TotalMilliseconds, ok);
            }));
        }

        await Task.WhenAll(pending);
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = Summarise(samples);
        if (print)
        {
            for (var p = 0; p < paths.Length; p++)
            {
                var f = Summarise(samples.Where(s => s.Path == p).ToArray());
                Console.WriteLine($"  {"/" + paths[p],-55} p50 {f.P50,7:F1} ms  p99 {f.P99,7:F1} ms  max {f.Max,7:F1} ms  n={f.Count} errors={f.Errors}");
            }

            Console.WriteLine($"  {"all",-55} p50 {all.P50,7:F1} ms  p99 {all.P99,7:F1} ms  max {all.Max,7:F1} ms  n={all.Count} errors={all.Errors}  achieved {all.Count / elapsed:F0}/s");
        }

        return all;
    }

    private static async Task ClosedLoopAsync(HttpClient client, string[] paths, Func<string, string> next, int connections, int seconds)
    {
        var stop = Stopwatch.StartNew();
        var count = 0;
        var errors = new int[paths.Length];
        var gate = new Lock();
        var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            var i = w;
            while (stop.Elapsed.TotalSeconds < seconds)
            {
                string url;
                var pathIndex = i++ % paths.Length;
                lock (gate)
                {
                    url = next(paths[pathIndex]);
                }

                using var response = await client.GetAsync(url);
                Interlocked.Increment(ref count);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors[pathIndex]);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        Console.WriteLine($"closed loop: {connections} connections for {seconds}s: {count / stop.Elapsed.TotalSeconds:F0} requests/s, errors={errors.Sum()}");
        for (var p = 0; p < paths.Length; p++)
        {
            if (errors[p] > 0)
            {
                Console.WriteLine($"  /{paths[p]}: errors={errors[p]}");
            }
        }
    }

    private static Figures Summarise((int Path, double Ms, bool Ok)[] samples)
    {
        var sorted = samples.Select(s => s.Ms).Order().ToArray();
        double At(double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Figures(At(0.50), At(0.99), sorted.LastOrDefault(), sorted.Length, samples.Count(s => !s.Ok));
    }

    // 20 stacks × 2 environments; each run has the event trail of a real apply and its details.
    private static async Task<List<RunRecord>> SeedAsync(IAirlockStore store, int count)
    {
        var path = new[] { "validating", "policy_check", "queued", "acquiring_locks", "preparing", "applying", "verifying" };
        var seeded = new List<RunRecord>(count);
        var gate = new SemaphoreSlim(4);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var id = $"run-bench{i:D6}";
                var stack = $"stack-{i % 20:D2}";
                var environment = i % 3 == 0 ? "prod" : "dev";
                var run = await store.Runs.CreateAsync(id, stack, environment, null, RunState.Requested.WireName(), "bench@example.com", CancellationToken.None);
                var from = RunState.Requested.WireName();
                foreach (var to in path)
                {
                    await store.Runs.TransitionAsync(id, from, to, "bench@example.com", "seeded", CancellationToken.None);
                    from = to;
                }

                var final = i % 10 == 0 ? "failed" : "succeeded";
                await store.Runs.TransitionAsync(id, from, final, "bench@example.com", "seeded", CancellationToken.None);
                await store.Runs.SaveDetailsAsync(new RunDetails(id, $"plan-bench{i:D6}", "bench@example.com", 1, final == "failed" ? "transient" : null, final == "failed" ? "seeded failure" : "applied", null, "{}"), CancellationToken.None);
                lock (seeded)
                {
                    seeded.Add(run);
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        return seeded;
    }

    // Real plans of the one stack (its plan script proposes one update), alternating dev and prod: metadata,
    // summary, policy result and artifact in the store, and a "planned" evidence event each.
    private static async Task<List<string>> SeedPlansAsync(AirlockServices services, int count)
    {
        var planner = new PlanService(services);
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var outcome = await planner.PlanAsync(new PlanRequest("site", i % 2 == 0 ? "dev" : "prod", "bench@example.com"), NullOutputSink.Instance, CancellationToken.None);
            ids.Add(outcome.Record.PlanId);
        }

        return ids;
    }

    // Real releases of the checked-out commit with no stack changed (base = that commit): each walks dev → prod,
    // saving its progress and evidence events, without applying anything.
    private static async Task SeedReleasesAsync(AirlockServices services, int count)
    {
        var releases = new ReleaseService(services);
        for (var i = 0; i < count; i++)
        {
            var outcome = await releases.StartAsync(new ReleaseRequest($"v1.{i}", null, "HEAD", All: false, Through: null, "bench@example.com", Wait: false), new QuietRelease(), CancellationToken.None);
            if (outcome.ExitCode != 0)
            {
                throw new InvalidOperationException($"seeding release v1.{i}: {outcome.Statement}");
            }
        }
    }

    private sealed class QuietRelease : IReleaseObserver
    {
        public IOutputSink ToolOutput => NullOutputSink.Instance;

        public void Report(string message)
        {
        }
    }

    private static void CreateWorkspace(string root)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "airlock.yaml"), """
            version: 1
            project: bench
            defaults: { engine: command }
            teams: { platform: [bench@example.com] }
            environments:
              dev: {}
              prod: {}
            stacks:
              site:
                path: stacks/site
                owners: [platform]
                command: { plan: "sh plan.sh", apply: "true", state_serial: "echo 0", outputs: "echo {}" }
            """);
        Directory.CreateDirectory(Path.Combine(root, "stacks", "site"));
        File.WriteAllText(Path.Combine(root, "stacks", "site", "plan.sh"), """
            printf '{"format_version":"1.2","resource_changes":[{"address":"local_file.page","mode":"managed","type":"local_file","name":"page","provider_name":"bench","change":{"actions":["update"],"before":{"content":"a"},"after":{"content":"b"},"after_unknown":{}}}]}' > "$AIRLOCK_PLAN_JSON"
            echo "update page" > "$AIRLOCK_PLAN_FILE"
            echo "Plan: 0 to add, 1 to change, 0 to destroy."

            """);
        RunGit(root, "init", "-q", "-b", "main");
        RunGit(root, "add", "-A");
        RunGit(root, "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "bench");
    }

    private static Process StartServer(string root, string? database)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "airlock.dll"));
        foreach (var arg in new[] { "serve", "--urls", "http://127.0.0.1:0" })
        {
            psi.ArgumentList.Add(arg);
        }

        if (database is not null)
        {
            psi.Environment["AIRLOCK_DATABASE_URL"] = database;
        }

        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        return Process.Start(psi)!;
    }

    private static async Task<string> WaitForAddressAsync(Process server)
    {
        // The listening line is on stderr; stdout carries the JSON logs (drained, never read).
        server.OutputDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (await server.StandardError.ReadLineAsync(timeout.Token) is { } line)
        {
            if (ListeningOn().Match(line) is { Success: true } match)
            {
                _ = server.StandardError.ReadToEndAsync(CancellationToken.None); // keep draining
                return match.Groups[1].Value;
            }
        }

        throw new InvalidOperationException("airlock serve exited before listening");
    }

    private static void RunGit(string root, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = root, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var git = Process.Start(psi)!;
        git.WaitForExit();
    }

    private static string? Arg(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    [GeneratedRegex(@"listening on (http://[^ ,]+)")]
    private static partial Regex ListeningOn();
}
