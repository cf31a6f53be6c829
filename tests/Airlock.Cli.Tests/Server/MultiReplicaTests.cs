using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Airlock.Application;
using Airlock.Application.Plans;
using Airlock.Application.Tokens;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;
using Airlock.Store.Tests;
using Airlock.Testing;

namespace Airlock.Cli.Tests.Server;

/// <summary>
/// Part 5 of issue 8 with real processes: three `airlock serve` replicas on one PostgreSQL database share apply
/// requests over twenty command-engine stacks whose apply scripts record when they ran; one replica is killed with
/// SIGKILL while it applies. AIRLOCK_MULTI_REPLICA_ROUNDS sets the applies per stack (default 10: 200 applies).
/// </summary>
public sealed partial class MultiReplicaTests
{
    private const int Stacks = 20;
    private const string Lease = "6s"; // short, so the test sees a lapse soon; long enough that a loaded machine does not miss three heartbeats

    [Fact]
    public async Task Three_replicas_share_the_applies_exactly_once_without_overlap_and_a_killed_replicas_run_is_shown_for_reconciliation_and_only_a_fresh_plan_unblocks_its_stack()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("AIRLOCK_MULTI_REPLICA_ROUNDS"), CultureInfo.InvariantCulture, out var r) && r > 0 ? r : 10;
        using var dir = new TempDir("airlock-replicas");
        using var git = new GitHistory(dir.Path);
        WriteWorkspace(git);
        git.Commit("twenty stacks");
        var environment = new Dictionary<string, string?>
        {
            ["AIRLOCK_DATABASE_URL"] = await PostgresServer.CreateDatabaseAsync(),
            ["AIRLOCK_PLAN_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["AIRLOCK_ACTOR"] = null,
        };

        // Plans through the services over the same database (this also creates the workspace's evidence key once,
        // before three processes could race to); a plan of the dev environment needs no approval.
        await using var session = await WorkspaceSession.OpenAsync(dir.Path, null, name => environment.GetValueOrDefault(name), TimeProvider.System, CancellationToken.None);
        var store = session.Services.Store;
        // One plan per apply: an approved plan is applied at most once. planned[n] is the n-th apply's plan.
        var planned = new List<string>();
        var stackOfPlan = new Dictionary<string, string>();
        for (var n = 0; n < Stacks * rounds; n++)
        {
            var stack = StackNames()[n % Stacks];
            var planId = (await new PlanService(session.Services).PlanAsync(new PlanRequest(stack, "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None)).Record.PlanId;
            planned.Add(planId);
            stackOfPlan[planId] = stack;
        }

        var token = (await new TokenService(store.Tokens, session.Services.Time, session.Services.Evidence).CreateAsync("bob@example.com", ["platform"], "test-admin@example.com", null, CancellationToken.None)).Secret;

        var replicas = new List<(RunningCli Process, string Id, HttpClient Client)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var process = CliRunner.Start(dir.Path, environment, "serve", "--urls", "http://127.0.0.1:0", "--workers", "2", "--lease", Lease);
                await process.WaitForLineAsync("airlock serve: listening on", TimeSpan.FromSeconds(60));
                var match = Listening().Match(process.Output);
                var client = new HttpClient { BaseAddress = new Uri(match.Groups[1].Value + "/"), Timeout = TimeSpan.FromSeconds(60) };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                replicas.Add((process, match.Groups[2].Value, client));
            }

            // Applies round-robin over stacks, posted to the replicas in turn.
            var runIds = new List<string>();
            for (var n = 0; n < Stacks * rounds; n++)
            {
                var posted = await replicas[n % 3].Client.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = planned[n] });
                Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
                runIds.Add((string)(await posted.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!);
            }

            // Kill replica 0 with SIGKILL while one of its workers is applying.
            var victim = replicas[0];
            var killedRun = await WaitForApplyingOnAsync(store, victim.Id, TimeSpan.FromSeconds(90));
            var killedStack = (await store.Runs.GetAsync(killedRun, CancellationToken.None))!.Stack;
            // The run is "applying" a moment before its script records its start: it may die before it writes it.
            var killedAtNs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
            await victim.Process.KillHardAsync();

            // Every request ends: done by a worker, or abandoned once the dead replica's claim lapsed.
            var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(240);
            while (true)
            {
                var open = (await store.ApplyRequests.ListAsync(ApplyRequestStates.Pending, 1000, CancellationToken.None)).Count
                    + (await store.ApplyRequests.ListAsync(ApplyRequestStates.Claimed, 1000, CancellationToken.None)).Count;
                if (open == 0)
                {
                    break;
                }

                Assert.True(DateTimeOffset.UtcNow < deadline, $"{open} apply requests still open");
                await Task.Delay(250);
            }

            // Exactly once: every request done or abandoned, each run applied at most once.
            var requests = new List<ApplyRequestRecord>();
            foreach (var id in runIds)
            {
                requests.Add((await store.ApplyRequests.GetAsync(id, CancellationToken.None))!);
            }

            Assert.All(requests, q => Assert.Contains(q.State, new[] { ApplyRequestStates.Done, ApplyRequestStates.Abandoned }));
            var abandoned = requests.Where(q => q.State == ApplyRequestStates.Abandoned).ToList();
            Assert.NotEmpty(abandoned);
            Assert.All(abandoned, q => Assert.StartsWith(victim.Id + "/", q.ClaimedBy, StringComparison.Ordinal));
            Assert.Contains(abandoned, q => q.RunId == killedRun);

            var intervals = ReadIntervals(dir.Path);
            Assert.All(intervals.GroupBy(i => i.RunId), g => Assert.Single(g));
            Assert.All(intervals, i => Assert.Contains(i.RunId, runIds));

            // Every run final or needs_reconciliation; done requests carry their run's final state.
            var states = new Dictionary<string, string>();
            foreach (var q in requests)
            {
                var run = await store.Runs.GetAsync(q.RunId, CancellationToken.None);
                if (run is null)
                {
                    // The victim claimed it and was killed before it created the run (nothing was done; the reconciler
                    // abandoned the request without re-running it), or it was refused before a run existed.
                    Assert.True(
                        (q.State == ApplyRequestStates.Abandoned && q.ClaimedBy!.StartsWith(victim.Id + "/", StringComparison.Ordinal))
                        || (q.State == ApplyRequestStates.Done && q.Outcome!.StartsWith("not started", StringComparison.Ordinal)),
                        $"request {q.RunId} is {q.State} ({q.Outcome}) by {q.ClaimedBy} and has no run");
                    continue;
                }

                var state = RunStates.ParseWireName(run.State);
                Assert.True(state.IsFinal() || state == RunState.NeedsReconciliation, $"run {run.Id} is {run.State}");
                if (q.State == ApplyRequestStates.Done)
                {
                    Assert.Equal(run.State, q.Outcome);
                }

                states[q.RunId] = run.State;
            }

            // Survivors did the work: most runs succeeded, on both surviving replicas.
            Assert.True(states.Values.Count(s => s == "succeeded") >= Stacks * rounds / 2, string.Join(", ", states.Values.GroupBy(s => s).Select(g => $"{g.Key}: {g.Count()}")));
            Assert.Contains(requests, q => q.ClaimedBy!.StartsWith(replicas[1].Id + "/", StringComparison.Ordinal));
            Assert.Contains(requests, q => q.ClaimedBy!.StartsWith(replicas[2].Id + "/", StringComparison.Ordinal));

            // No overlapping applies per stack (an interval never ended counts as still running).
            foreach (var stack in intervals.GroupBy(i => i.Stack))
            {
                var ordered = stack.OrderBy(i => i.Start).ToList();
                for (var k = 1; k < ordered.Count; k++)
                {
                    Assert.True(ordered[k].Start >= (ordered[k - 1].End ?? long.MaxValue), $"{stack.Key}: run {ordered[k].RunId} started before run {ordered[k - 1].RunId} ended");
                }
            }

            // The killed run was reconciled by a survivor and nothing applied its stack afterwards.
            Assert.Equal("needs_reconciliation", states[killedRun]);
            var events = await store.Runs.ReadEventsAsync(killedRun, CancellationToken.None);
            Assert.Contains(events, e => e.To == "needs_reconciliation" && e.Actor == "airlock");
            var killedStart = intervals.SingleOrDefault(i => i.RunId == killedRun)?.Start ?? killedAtNs;
            Assert.DoesNotContain(intervals, i => i.Stack == killedStack && i.Start > killedStart);
            var later = requests.Where(q => stackOfPlan[q.PlanId] == killedStack && q.RunId != killedRun && states.ContainsKey(q.RunId) && states[q.RunId] != "succeeded" && states[q.RunId] != "needs_reconciliation").ToList();
            Assert.All(later, q => Assert.Contains(states[q.RunId], new[] { "rejected", "failed" }));

            // A surviving replica shows the killed run as needs_reconciliation, over the API and on its dashboard page.
            var survivor = replicas[1];
            var shown = await survivor.Client.GetFromJsonAsync<JsonObject>($"api/runs/{killedRun}");
            Assert.Equal("needs_reconciliation", (string?)shown!["state"]);
            Assert.Contains(shown["events"]!.AsArray(), e => (string?)e!["to"] == "needs_reconciliation" && (string?)e["actor"] == "airlock");
            using (var cookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
            using (var browser = new HttpClient(cookies) { BaseAddress = survivor.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(60) })
            {
                var signIn = await browser.PostAsync("login", new FormUrlEncodedContent([new("token", token), new("return_url", $"/runs/{killedRun}")]));
                Assert.True(signIn.StatusCode == HttpStatusCode.Redirect, $"{(int)signIn.StatusCode}: {await signIn.Content.ReadAsStringAsync()}");
                var page = await browser.GetAsync($"runs/{killedRun}");
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Equal("needs_reconciliation", RunStateOnPage().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value);
            }

            // The way out the product requires: someone inspects the target (above), plans again (the fresh plan reads
            // the real state, made after the failure), the plan is approved, and the new plan applies on a surviving
            // replica, taking over the dead run's lapsed lock. Nothing is force-unlocked.
            var fresh = (await new PlanService(session.Services).PlanAsync(new PlanRequest(killedStack, "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None)).Record;
            var approved = await survivor.Client.PostAsync($"api/plans/{fresh.PlanId}/approvals", null);
            Assert.True(approved.StatusCode == HttpStatusCode.OK, $"{(int)approved.StatusCode}: {await approved.Content.ReadAsStringAsync()}");
            Assert.True((bool)(await approved.Content.ReadFromJsonAsync<JsonObject>())!["satisfied"]!);
            var freshPost = await replicas[2].Client.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = fresh.PlanId });
            Assert.Equal(HttpStatusCode.Accepted, freshPost.StatusCode);
            var freshRun = (string)(await freshPost.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
            var freshDeadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(120);
            JsonObject? freshRequest;
            while ((string?)(freshRequest = await survivor.Client.GetFromJsonAsync<JsonObject>($"api/applies/{freshRun}"))!["status"] != "done")
            {
                Assert.True(DateTimeOffset.UtcNow < freshDeadline, $"the fresh apply is still {freshRequest["status"]}");
                await Task.Delay(250);
            }

            Assert.True((string?)freshRequest["outcome"] == "succeeded", freshRequest.ToJsonString());
            var freshEvents = await store.Runs.ReadEventsAsync(freshRun, CancellationToken.None);
            Assert.Contains(freshEvents, e => e.To == "succeeded");
            var freshInterval = Assert.Single(ReadIntervals(dir.Path), i => i.RunId == freshRun);
            Assert.Equal(killedStack, freshInterval.Stack);
            Assert.True(freshInterval.Start > killedStart && freshInterval.End is not null);
            Assert.Equal("needs_reconciliation", (await store.Runs.GetAsync(killedRun, CancellationToken.None))!.State);

            // The evidence chain (three writers, one killed mid-run) verifies.
            var verified = await CliRunner.RunAsync(dir.Path, environment, "evidence", "verify");
            Assert.True(verified.ExitCode == 0, verified.ToString());
        }
        finally
        {
            foreach (var (process, id, client) in replicas)
            {
                if (Environment.GetEnvironmentVariable("AIRLOCK_MULTI_REPLICA_LOGS") is { Length: > 0 } logs)
                {
                    File.WriteAllText(Path.Combine(logs, id + ".log"), process.Output);
                }

                client.Dispose();
                process.Dispose();
            }
        }
    }

    private static async Task<string> WaitForApplyingOnAsync(IAirlockStore store, string replicaId, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var done = (await store.ApplyRequests.ListAsync(ApplyRequestStates.Done, 1000, CancellationToken.None)).Count;
            if (done >= Stacks)
            {
                foreach (var claimed in await store.ApplyRequests.ListAsync(ApplyRequestStates.Claimed, 100, CancellationToken.None))
                {
                    if (claimed.ClaimedBy!.StartsWith(replicaId + "/", StringComparison.Ordinal)
                        && (await store.Runs.GetAsync(claimed.RunId, CancellationToken.None))?.State == "applying")
                    {
                        return claimed.RunId;
                    }
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"replica {replicaId} never applied");
    }

    private static string[] StackNames() => [.. Enumerable.Range(0, Stacks).Select(i => $"s{i:00}")];

    private sealed record Interval(string Stack, string RunId, long Start, long? End);

    private static List<Interval> ReadIntervals(string root)
    {
        var result = new List<Interval>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "target"), "*.intervals"))
        {
            var stack = Path.GetFileNameWithoutExtension(file);
            var starts = new Dictionary<string, long>();
            var ends = new Dictionary<string, long>();
            foreach (var line in File.ReadAllLines(file))
            {
                var parts = line.Split(' ');
                var at = long.Parse(parts[1], CultureInfo.InvariantCulture);
                Assert.True((parts[0] == "start" ? starts : ends).TryAdd(parts[2], at), $"{stack}: run {parts[2]} {parts[0]}ed twice");
            }

            result.AddRange(starts.Select(s => new Interval(stack, s.Key, s.Value, ends.TryGetValue(s.Key, out var end) ? end : null)));
        }

        return result;
    }

    private static void WriteWorkspace(GitHistory git)
    {
        var yaml = new StringBuilder(
            """
            version: 1
            project: replicas
            defaults:
              engine: command
            teams:
              platform: [alice@example.com, bob@example.com]
            environments:
              dev:
                approvals: { required: 0 }
                plan: { mode: replan }
            stacks:

            """);
        foreach (var stack in StackNames())
        {
            yaml.Append(CultureInfo.InvariantCulture, $$"""
                  {{stack}}:
                    path: stacks/{{stack}}
                    owners: [platform]
                    command: { plan: sh ../../bin/plan.sh, apply: sh ../../bin/apply.sh, state_serial: sh ../../bin/serial.sh, outputs: sh ../../bin/outputs.sh }

                """);
            git.Write($"stacks/{stack}/README", "a tiny stack whose apply records when it ran\n");
        }

        git.Write("airlock.yaml", yaml.ToString());
        git.Write(".gitignore", "target/\n.airlock/\n");
        // One resource updated by every plan: the re-plan at apply time is always materially the approved one.
        git.Write("bin/plan.sh", """
            set -eu
            printf '{"format_version":"1.2","resource_changes":[{"address":"null_resource.tick","mode":"managed","type":"null_resource","name":"tick","provider_name":"replicas","change":{"actions":["update"],"before":{"n":1},"after":{"n":2},"after_unknown":{}}}]}\n' > "$AIRLOCK_PLAN_JSON"
            echo tick > "$AIRLOCK_PLAN_FILE"
            echo "Plan: 0 to add, 1 to change, 0 to destroy."
            """);
        // Records its interval (ns) in target/<stack>.intervals, then advances the state serial.
        git.Write("bin/apply.sh", """
            set -eu
            mkdir -p ../../target
            log="../../target/$AIRLOCK_STACK.intervals"
            echo "start $(date +%s%N) $AIRLOCK_RUN_ID" >> "$log"
            echo "null_resource.tick: Modifying..."
            sleep 0.3
            serial=$(cat "../../target/$AIRLOCK_STACK.serial" 2>/dev/null || echo 0)
            echo $((serial + 1)) > "../../target/$AIRLOCK_STACK.serial"
            echo "null_resource.tick: Modifications complete after 0s"
            echo "end $(date +%s%N) $AIRLOCK_RUN_ID" >> "$log"
            echo "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
            """);
        git.Write("bin/serial.sh", """cat "../../target/$AIRLOCK_STACK.serial" 2>/dev/null || echo 0""" + "\n");
        git.Write("bin/outputs.sh", "echo '{}'\n");
    }

    [GeneratedRegex(@"id=""run-state""[^>]*>([^<]+)<")]
    private static partial Regex RunStateOnPage();

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+) \(replica ([^,]+),")]
    private static partial Regex Listening();
}
