using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Apply;
using Airlock.Application.Plans;
using Airlock.Domain.Locks;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;

namespace Airlock.Server.Tests;

/// <summary>Applies over the worker queue and the live run log, over real Kestrel with a real worker and the command engine.</summary>
public sealed class AppliesTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public async Task An_apply_posted_to_the_api_runs_on_a_worker_as_the_tokens_actor_and_its_log_streams_as_server_sent_events(string backend)
    {
        await using var server = await ServerHarness.StartAsync(backend, workers: 1);
        var plan = await new PlanService(server.Host.Services).PlanAsync(new PlanRequest("site", "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None);
        var bob = await server.ClientAsync("bob@example.com");

        // An "actor" field is ignored: who applies is the token's actor.
        var posted = await bob.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = plan.Record.PlanId, ["actor"] = "mallory@example.com" });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var accepted = await posted.Content.ReadFromJsonAsync<JsonObject>();
        var runId = (string)accepted!["run_id"]!;
        Assert.StartsWith("run-", runId, StringComparison.Ordinal);
        Assert.Equal("pending", (string?)accepted["status"]);
        Assert.Equal($"/api/applies/{runId}", posted.Headers.Location?.ToString());

        var events = await SseEvents.ReadAllAsync(bob, $"api/runs/{runId}/log", null);
        var lines = events.Where(e => e.Name == "message").ToList();
        Assert.NotEmpty(lines);
        Assert.Equal(Enumerable.Range(1, lines.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines.Select(e => e.Id));
        var data = lines.Select(e => JsonNode.Parse(e.Data)!.AsObject()).ToList();
        Assert.Equal(lines.Select(e => long.Parse(e.Id!, System.Globalization.CultureInfo.InvariantCulture)), data.Select(d => (long)d["seq"]!));
        Assert.Contains(data, d => (string?)d["stream"] == "stdout" && ((string)d["line"]!).StartsWith("Apply complete!", StringComparison.Ordinal));
        Assert.Contains(data, d => (string?)d["stream"] == "airlock" && ((string)d["line"]!).Contains("→ applying", StringComparison.Ordinal));
        Assert.All(data, d => Assert.True(DateTimeOffset.TryParse((string)d["at"]!, System.Globalization.CultureInfo.InvariantCulture, out _)));
        var states = events.Where(e => e.Name == "state").Select(e => (string)JsonNode.Parse(e.Data)!["state"]!).ToList();
        Assert.Equal("succeeded", states[^1]);
        Assert.Equal("end", events[^1].Name);
        Assert.Equal("succeeded", (string?)JsonNode.Parse(events[^1].Data)!["state"]);

        var request = await bob.GetFromJsonAsync<JsonObject>($"api/applies/{runId}");
        Assert.Equal("done", (string?)request!["status"]);
        Assert.Equal("succeeded", (string?)request["outcome"]);
        Assert.Equal("succeeded", (string?)request["run_state"]);
        Assert.Equal("bob@example.com", (string?)request["actor"]);
        var details = await server.Host.Services.Store.Runs.GetDetailsAsync(runId, CancellationToken.None);
        Assert.Equal("bob@example.com", details!.RequestedBy);
        Assert.True(File.Exists(Path.Combine(server.Root, "target", "dev", "site", "index.html")));

        // Resuming after line 3 starts at line 4; the plain log has the same lines.
        var resumed = await SseEvents.ReadAllAsync(bob, $"api/runs/{runId}/log", "3");
        Assert.Equal("4", resumed.First(e => e.Name == "message").Id);
        Assert.Equal(lines.Count - 3, resumed.Count(e => e.Name == "message"));
        var text = await bob.GetStringAsync($"api/runs/{runId}/log?format=text");
        Assert.Contains("Apply complete!", text, StringComparison.Ordinal);
        Assert.Equal(lines.Count, text.TrimEnd('\n').Split('\n').Length);
    }

    // Before, only a server worker stored a run's log: the dashboard showed an empty log for runs of `airlock apply`
    // and of releases, which go through the same ApplyService in their own process.
    [Fact]
    public async Task A_run_applied_outside_the_server_has_its_log_stored_and_streamed_whole()
    {
        await using var server = await ServerHarness.StartAsync(workers: 0);
        var plan = await new PlanService(server.Host.Services).PlanAsync(new PlanRequest("site", "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None);
        var shown = new List<string>();
        var observer = new ListObserver(shown);

        var outcome = await new ApplyService(server.Host.Services).ApplyAsync(new ApplyRequest(plan.Record.PlanId, "alice@example.com"), observer, CancellationToken.None);

        Assert.Equal(RunState.Succeeded, outcome.State);
        var stored = await server.Host.Services.Store.RunLogs.ReadAsync(outcome.RunId, 0, 1000, CancellationToken.None);
        Assert.Contains(stored, l => l.Stream == "stdout" && l.Line.StartsWith("Apply complete!", StringComparison.Ordinal));
        Assert.Contains(stored, l => l.Stream == "airlock" && l.Line.Contains("→ succeeded", StringComparison.Ordinal));
        // The caller's observer still sees every line the store has, in the same order.
        Assert.Equal(shown, stored.Select(l => l.Line));
        var bob = await server.ClientAsync("bob@example.com");
        var events = await SseEvents.ReadAllAsync(bob, $"api/runs/{outcome.RunId}/log", null);
        Assert.Equal(stored.Count, events.Count(e => e.Name == "message"));
        Assert.Equal("end", events[^1].Name);
    }

    private sealed class ListObserver(List<string> lines) : IApplyObserver, IOutputSink
    {
        public IOutputSink ToolOutput => this;

        public void Transition(RunTransition transition)
        {
            lock (lines)
            {
                lines.Add($"{transition.From.WireName()} → {transition.To.WireName()}: {transition.Detail}");
            }
        }

        public void Note(string message)
        {
            lock (lines)
            {
                lines.Add(message);
            }
        }

        public void WriteLine(OutputChannel stream, string line)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }

    [Fact]
    public async Task Bad_apply_requests_are_one_line_problems_and_write_nothing()
    {
        await using var server = await ServerHarness.StartAsync(workers: 0);
        var bob = await server.ClientAsync("bob@example.com");

        var unknown = await bob.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = "plan-nope" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        var problem = await unknown.Content.ReadFromJsonAsync<JsonObject>();
        Assert.StartsWith("unknown plan 'plan-nope'", (string?)problem!["title"], StringComparison.Ordinal);
        Assert.DoesNotContain("\n", (string?)problem["title"], StringComparison.Ordinal);

        var missing = await bob.PostAsJsonAsync("api/applies", new JsonObject());
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);

        var plan = await new PlanService(server.Host.Services).PlanAsync(new PlanRequest("site", "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None);
        var halfBreakGlass = await bob.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = plan.Record.PlanId, ["break_glass"] = new JsonObject { ["incident"] = "INC-1" } });
        Assert.Equal(HttpStatusCode.BadRequest, halfBreakGlass.StatusCode);
        Assert.Equal("break_glass needs both an incident and a reason", (string?)(await halfBreakGlass.Content.ReadFromJsonAsync<JsonObject>())!["title"]);

        Assert.Empty(await server.Host.Services.Store.ApplyRequests.ListAsync("pending", 10, CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("api/applies/run-nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("api/runs/run-nope/log")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await (await server.ClientAsync()).PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = plan.Record.PlanId })).StatusCode);
    }

    [Fact]
    public async Task Stopping_the_replica_cancels_a_running_apply_gracefully_and_the_request_ends_cancelled()
    {
        await using var server = await ServerHarness.StartAsync(workers: 1);
        // The site's own knob: a long wait before changing anything that SIGINT ends with exit 130, nothing changed.
        var apply = Path.Combine(server.Root, "stacks", "site", "apply.sh");
        File.WriteAllText(apply, File.ReadAllText(apply).Replace(". ./common.sh\n", ". ./common.sh\nSITE_APPLY_DELAY=60\n", StringComparison.Ordinal));
        server.Git.Commit("a slow apply");
        var plan = await new PlanService(server.Host.Services).PlanAsync(new PlanRequest("site", "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None);
        var bob = await server.ClientAsync("bob@example.com");
        var runId = (string)(await (await bob.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = plan.Record.PlanId })).Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;

        var store = server.Host.Services.Store;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while ((await store.RunLogs.ReadAsync(runId, 0, 1000, CancellationToken.None)).All(l => !l.Line.StartsWith("site: waiting", StringComparison.Ordinal)))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the apply never started waiting");
            await Task.Delay(100);
        }

        await server.Host.App.StopAsync();

        Assert.Equal("cancelled", (await store.Runs.GetAsync(runId, CancellationToken.None))!.State);
        var request = await store.ApplyRequests.GetAsync(runId, CancellationToken.None);
        Assert.Equal((ApplyRequestStates.Done, "cancelled"), (request!.State, request.Outcome));
        Assert.Contains(await store.RunLogs.ReadAsync(runId, 0, 1000, CancellationToken.None), l => l.Stream == "stderr" && l.Line.Contains("apply cancelled; nothing changed", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(server.Root, "target", "dev", "site", "index.html")));
    }

    [Fact]
    public async Task A_run_whose_lock_lease_was_lost_before_the_apply_stops_without_changing_anything()
    {
        await using var server = await ServerHarness.StartAsync(workers: 1, lease: TimeSpan.FromSeconds(6)); // short, but long enough for a loaded machine's heartbeats
        // The re-plan at apply time waits while target/slow-replan exists (target/ is git-ignored: the tree stays clean).
        var plan = Path.Combine(server.Root, "stacks", "site", "plan.sh");
        File.WriteAllText(plan, File.ReadAllText(plan).Replace(". ./common.sh\n", ". ./common.sh\nwhile [ -f ../../target/slow-replan ]; do sleep 0.1; done\n", StringComparison.Ordinal));
        server.Git.Commit("a re-plan that can be held");
        var planned = await new PlanService(server.Host.Services).PlanAsync(new PlanRequest("site", "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None);
        var hold = Path.Combine(server.Root, "target", "slow-replan");
        Directory.CreateDirectory(Path.GetDirectoryName(hold)!);
        File.WriteAllText(hold, "held by the test\n");
        var bob = await server.ClientAsync("bob@example.com");
        var runId = (string)(await (await bob.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = planned.Record.PlanId })).Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
        var store = server.Host.Services.Store;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while ((await store.Runs.GetAsync(runId, CancellationToken.None))?.State != "planning")
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the run never started its re-plan");
            await Task.Delay(50);
        }

        // What a stall past the lease looks like from outside: the lease lapsed and another holder took the key.
        var lease = (await store.Locks.ListAsync(CancellationToken.None)).Single(l => l.Holder.RunId == runId && l.Key.ToString().StartsWith("stack:", StringComparison.Ordinal));
        Assert.True(await store.Locks.ReleaseAsync(lease.Key, lease.FencingToken, CancellationToken.None));
        var other = await store.Locks.TryAcquireAsync(lease.Key, new LockRequest("run-other", "carol@example.com", "took over a lapsed lease", TimeSpan.FromMinutes(5)), CancellationToken.None);
        Assert.True(other.Acquired);
        await Task.Delay(TimeSpan.FromSeconds(4.5)); // more than the renewal interval (a third of the lease)
        File.Delete(hold);

        deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while ((await store.ApplyRequests.GetAsync(runId, CancellationToken.None))!.State != ApplyRequestStates.Done)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the run never ended: " + string.Join(" | ", (await store.Runs.ReadEventsAsync(runId, CancellationToken.None)).Select(e => $"{e.To}: {e.Detail}")));
            await Task.Delay(100);
        }

        var run = await store.Runs.GetAsync(runId, CancellationToken.None);
        var details = await store.Runs.GetDetailsAsync(runId, CancellationToken.None);
        Assert.Equal(("failed", "lock_unavailable"), (run!.State, details!.FailureClass));
        Assert.StartsWith("this run lost its lock lease before the apply started", details.Statement, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", details.Statement, StringComparison.Ordinal);
        Assert.DoesNotContain(await store.Runs.ReadEventsAsync(runId, CancellationToken.None), e => e.To == "applying");
        Assert.False(File.Exists(Path.Combine(server.Root, "target", "dev", "site", "index.html")));
        // The other holder still holds the key: the lost run released nothing that was not its own.
        Assert.Equal("run-other", (await store.Locks.ListAsync(CancellationToken.None)).Single(l => l.Key == lease.Key).Holder.RunId);
    }

    [Fact]
    public async Task A_pending_apply_waits_for_a_worker_and_its_log_says_pending()
    {
        await using var server = await ServerHarness.StartAsync(workers: 0);
        var plan = await new PlanService(server.Host.Services).PlanAsync(new PlanRequest("site", "dev", "alice@example.com"), NullOutputSink.Instance, CancellationToken.None);
        var bob = await server.ClientAsync("bob@example.com");
        var runId = (string)(await (await bob.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = plan.Record.PlanId })).Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;

        // No worker on this replica: the stream stays open saying pending, the request stays pending.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var events = await SseEvents.ReadAllAsync(bob, $"api/runs/{runId}/log", null, cancel.Token);
        Assert.Equal("pending", (string)JsonNode.Parse(events.Single(e => e.Name == "state").Data)!["state"]!);
        Assert.DoesNotContain(events, e => e.Name == "end");
        var request = await bob.GetFromJsonAsync<JsonObject>($"api/applies/{runId}");
        Assert.Equal("pending", (string?)request!["status"]);
        Assert.Null(request["run_state"]);
    }
}

/// <summary>A minimal Server-Sent Events reader over a real HTTP response.</summary>
internal static class SseEvents
{
    public sealed record Event(string Name, string? Id, string Data);

    /// <summary>Reads events until the server closes the stream (or <paramref name="cancellationToken"/>, returning what arrived).</summary>
    public static async Task<List<SseEvents.Event>> ReadAllAsync(HttpClient client, string path, string? lastEventId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var events = new List<SseEvents.Event>();
        string? name = null, id = null;
        var data = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0)
                    {
                        events.Add(new Event(name ?? "message", id, string.Join('\n', data)));
                    }

                    name = null;
                    id = null;
                    data.Clear();
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line[7..];
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = line[4..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Add(line[6..]);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return events;
    }
}
