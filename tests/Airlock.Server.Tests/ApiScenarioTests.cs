using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Releases;
using Airlock.Engines.Processes;

namespace Airlock.Server.Tests;

/// <summary>
/// API routes seen doing real work over a real replica with real workers and the command engine: break-glass granted
/// and used through the API, the queue board with a run waiting behind a running one, and a real release and its trace.
/// </summary>
public sealed class ApiScenarioTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Break_glass_granted_through_the_api_lets_an_apply_through_the_api_pass_a_freeze()
    {
        await using var server = await ServerHarness.StartAsync(workers: 1);
        var alice = await server.ClientAsync("alice@example.com");
        Assert.Equal(HttpStatusCode.Created, (await alice.PostAsJsonAsync("api/freezes", new { env = "dev", reason = "SEV1 payments outage" })).StatusCode);
        var planId = await ApiTests.PlanAsync(server, "dev");
        var deployed = Path.Combine(server.Root, "target", "dev", "site", "index.html");

        // Under the freeze: refused without break-glass, and refused with break-glass that nobody granted.
        var frozen = await ApplyAndWaitAsync(alice, new JsonObject { ["plan_id"] = planId });
        Assert.Equal("rejected", (string?)frozen["outcome"]);
        Assert.Contains("incident freeze on dev: SEV1 payments outage", await StatementAsync(alice, frozen), StringComparison.Ordinal);
        var ungranted = await ApplyAndWaitAsync(alice, new JsonObject { ["plan_id"] = planId, ["break_glass"] = new JsonObject { ["incident"] = "INC-42", ["reason"] = "hotfix" } });
        Assert.Equal("rejected", (string?)ungranted["outcome"]);
        Assert.True((bool)ungranted["break_glass"]!);
        Assert.Contains("no break-glass grant for incident INC-42", await StatementAsync(alice, ungranted), StringComparison.Ordinal);
        Assert.False(File.Exists(deployed));

        // Only the break-glass team grants, as the token's actor.
        var bob = await server.ClientAsync("bob@example.com");
        var refused = await bob.PostAsJsonAsync($"api/plans/{planId}/break-glass", new { incident = "INC-42", reason = "restore payments", approver = "erin@example.com" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("not in the 'break-glass' team", (string?)(await refused.Content.ReadFromJsonAsync<JsonObject>())!["title"], StringComparison.Ordinal);
        var erin = await server.ClientAsync("erin@example.com");
        var granted = await erin.PostAsJsonAsync($"api/plans/{planId}/break-glass", new { incident = "INC-42", reason = "restore payments", valid_for = "30m" });
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        var grant = (await granted.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(("erin@example.com", "INC-42"), ((string?)grant["approver"], (string?)grant["incident"]));
        Assert.Equal(TimeSpan.FromMinutes(30), DateTimeOffset.Parse((string)grant["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.Parse((string)grant["granted_at"]!, System.Globalization.CultureInfo.InvariantCulture));
        var decisions = (await alice.GetFromJsonAsync<JsonObject>($"api/plans/{planId}/approvals"))!["decisions"]!.AsArray();
        Assert.Contains(decisions, d => (string?)d!["approver"] == "erin@example.com" && (string?)d["decision"] == "break_glass");

        // Another incident's use is still refused; the granted incident's passes the freeze and deploys.
        var otherIncident = await ApplyAndWaitAsync(alice, new JsonObject { ["plan_id"] = planId, ["break_glass"] = new JsonObject { ["incident"] = "INC-7", ["reason"] = "hotfix" } });
        Assert.Equal("rejected", (string?)otherIncident["outcome"]);
        Assert.False(File.Exists(deployed));
        var applied = await ApplyAndWaitAsync(alice, new JsonObject { ["plan_id"] = planId, ["break_glass"] = new JsonObject { ["incident"] = "INC-42", ["reason"] = "hotfix for INC-42" } });
        Assert.Equal(("done", "succeeded", "succeeded"), ((string?)applied["status"], (string?)applied["outcome"], (string?)applied["run_state"]));
        Assert.Equal("alice@example.com", (string?)applied["actor"]);
        Assert.True((bool)applied["break_glass"]!);
        Assert.True(File.Exists(deployed));

        var run = await alice.GetFromJsonAsync<JsonObject>($"api/runs/{(string)applied["run_id"]!}");
        var packet = (await alice.GetFromJsonAsync<JsonObject>($"api/evidence/{(long)run!["evidence_ids"]![0]!}"))!.ToJsonString();
        Assert.Contains("INC-42", packet, StringComparison.Ordinal);
        Assert.Contains("break-glass", packet, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_queue_shows_a_running_apply_and_one_waiting_behind_it_with_its_position_and_reason()
    {
        await using var server = await ServerHarness.StartAsync(workers: 2);
        // The site's own knob: a long wait before changing anything (stopping the replica ends it, nothing changed).
        var apply = Path.Combine(server.Root, "stacks", "site", "apply.sh");
        File.WriteAllText(apply, File.ReadAllText(apply).Replace(". ./common.sh\n", ". ./common.sh\nSITE_APPLY_DELAY=60\n", StringComparison.Ordinal));
        server.Git.Commit("a slow apply");
        var bob = await server.ClientAsync("bob@example.com");
        var first = await PostApplyAsync(bob, new JsonObject { ["plan_id"] = await ApiTests.PlanAsync(server, "dev") });
        var store = server.Host.Services.Store;
        var deadline = DateTimeOffset.UtcNow + Patience;
        while ((await store.RunLogs.ReadAsync(first, 0, 1000, CancellationToken.None)).All(l => !l.Line.StartsWith("site: waiting", StringComparison.Ordinal)))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the first apply never started waiting");
            await Task.Delay(100);
        }

        var second = await PostApplyAsync(bob, new JsonObject { ["plan_id"] = await ApiTests.PlanAsync(server, "dev") });
        JsonObject queue;
        deadline = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            queue = (await bob.GetFromJsonAsync<JsonObject>("api/queue"))!;
            if (queue["queues"]!.AsArray().Any(q => q!["waiting"]!.AsArray().Count > 0))
            {
                break;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, "the second apply never waited in the queue: " + queue.ToJsonString());
            await Task.Delay(100);
        }

        var board = Assert.Single(queue["queues"]!.AsArray())!;
        Assert.Equal(("dev/site", 1), ((string?)board["queue"], (int)board["concurrency"]!));
        var running = Assert.Single(board["current"]!.AsArray())!;
        Assert.Equal(first, (string?)running["run_id"]);
        Assert.False(string.IsNullOrEmpty((string?)running["claimed_by"]));
        var waiting = Assert.Single(board["waiting"]!.AsArray())!;
        Assert.Equal((second, "site", "dev", 1), ((string?)waiting["run_id"], (string?)waiting["stack"], (string?)waiting["environment"], (int)waiting["position"]!));
        Assert.True((long)waiting["age_seconds"]! >= 0);
        // Why it waits names the run in front of it.
        Assert.Contains(first, (string?)waiting["blocked_reason"], StringComparison.Ordinal);
        Assert.Empty(board["abandoned"]!.AsArray());
        Assert.Equal("queued", (string?)(await bob.GetFromJsonAsync<JsonObject>($"api/runs/{second}"))!["state"]);
    }

    [Fact]
    public async Task A_real_release_its_progress_and_its_trace_are_read_through_the_api()
    {
        // dev promotes to prod (no soak), so a release runs dev → prod.
        await using var server = await ServerHarness.StartAsync(arrange: h =>
        {
            h.Git.Write("airlock.yaml", File.ReadAllText(Path.Combine(h.Root, "airlock.yaml")).Replace(
                "    plan: { mode: replan }\n", "    plan: { mode: replan }\n    promotion: { next: prod }\n", StringComparison.Ordinal));
            h.Git.Commit("dev promotes to prod");
        });
        var outcome = await new ReleaseService(server.Host.Services).StartAsync(
            new ReleaseRequest("v1.2.0", Commit: null, Base: null, All: true, Through: null, Actor: "bob@example.com", Wait: false), new QuietObserver(), CancellationToken.None);
        // dev needs no approval and is applied; prod needs two, so the release waits there.
        Assert.True(outcome.ExitCode == ReleaseService.WaitingExitCode, outcome.Statement);
        var alice = await server.ClientAsync("alice@example.com");

        var listed = (await alice.GetFromJsonAsync<JsonObject>("api/releases"))!["releases"]!.AsArray();
        var summary = Assert.Single(listed)!;
        Assert.Equal((outcome.ReleaseId, "v1.2.0", "waiting"), ((string?)summary["id"], (string?)summary["version"], (string?)summary["status"]));

        var release = (await alice.GetFromJsonAsync<JsonObject>($"api/releases/{outcome.ReleaseId}"))!;
        var text = release.ToJsonString();
        Assert.Equal(server.Git.Git("rev-parse", "HEAD"), (string?)release["commit"]);
        var environments = release["environments"]!.AsArray();
        Assert.Equal(["dev", "prod"], environments.Select(e => (string?)e!["name"]));
        var devTarget = environments[0]!["waves"]!.AsArray().SelectMany(w => w!["targets"]!.AsArray()).Single()!;
        Assert.True((string?)environments[0]!["status"] == "succeeded", text);
        Assert.Equal(("site", "applied"), ((string?)devTarget["stack"], (string?)devTarget["status"]));
        var devRun = (string)devTarget["run_id"]!;
        var prodTarget = environments[1]!["waves"]!.AsArray().SelectMany(w => w!["targets"]!.AsArray()).Single()!;
        Assert.True((string?)environments[1]!["status"] == "waiting", text);
        Assert.Equal("awaiting_approval", (string?)prodTarget["status"]);
        Assert.Equal("prod", (string?)(await alice.GetFromJsonAsync<JsonObject>($"api/plans/{(string)prodTarget["plan_id"]!}"))!["environment"]);

        var run = (await alice.GetFromJsonAsync<JsonObject>($"api/runs/{devRun}"))!;
        Assert.Equal(("succeeded", "dev"), ((string?)run["state"], (string?)run["environment"]));

        // Where v1.2.0 went, by app version and by infrastructure commit: the dev apply of this release.
        foreach (var query in new[] { "app:v1.2.0", "infra:" + ((string)release["commit"]!)[..10] })
        {
            var trace = (await alice.GetFromJsonAsync<JsonObject>($"api/trace/{query}"))!;
            var applied = Assert.Single(trace["stack_applies"]!.AsArray())!;
            Assert.Equal((outcome.ReleaseId, "dev", "site", devRun), ((string?)applied["release_id"], (string?)applied["environment"], (string?)applied["stack"], (string?)applied["run_id"]));
        }

        Assert.Empty((await alice.GetFromJsonAsync<JsonObject>("api/trace/app:v9.9.9"))!["stack_applies"]!.AsArray());
    }

    private static async Task<string> PostApplyAsync(HttpClient client, JsonObject body)
    {
        var posted = await client.PostAsJsonAsync("api/applies", body);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        return (string)(await posted.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
    }

    /// <summary>Posts an apply request and waits until its worker is done with it; returns GET /api/applies/{id}.</summary>
    private static async Task<JsonObject> ApplyAndWaitAsync(HttpClient client, JsonObject body)
    {
        var runId = await PostApplyAsync(client, body);
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            var request = (await client.GetFromJsonAsync<JsonObject>($"api/applies/{runId}"))!;
            if ((string?)request["status"] is "done" or "abandoned")
            {
                return request;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"apply request {runId} never finished: " + request.ToJsonString());
            await Task.Delay(100);
        }
    }

    private static async Task<string> StatementAsync(HttpClient client, JsonObject request) =>
        (string?)(await client.GetFromJsonAsync<JsonObject>($"api/runs/{(string)request["run_id"]!}"))!["statement"] ?? "";

    private sealed class QuietObserver : IReleaseObserver
    {
        public IOutputSink ToolOutput => NullOutputSink.Instance;

        public void Report(string message)
        {
        }
    }
}
