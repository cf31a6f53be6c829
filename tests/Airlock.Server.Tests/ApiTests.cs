using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Apply;
using Airlock.Application.Plans;
using Airlock.Domain.Locks;
using Airlock.Domain.Runs;
using Airlock.Engines.Processes;

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Server.Tests;

/// <summary>
/// The API over a real replica: plans, approvals (always as the token's actor), rejections, runs with their
/// timeline, queue, locks and force-unlock, freezes, evidence, OpenAPI and metrics. Plans and applies run in the
/// test through the same application services the CLI uses (the command engine deploys real files).
/// </summary>
public sealed class ApiTests
{
    public static TheoryData<string> Backends => new() { "sqlite", "postgresql" };

    [Fact]
    public async Task A_large_plan_s_markdown_is_streamed_whole_and_the_same_as_the_pull_request_rendering()
    {
        await using var server = await ServerHarness.StartAsync();
        // 2,000 creates: ~200 KB of markdown, past the 32 KB the endpoint buffers in memory before it spills to a file.
        File.WriteAllText(Path.Combine(server.Root, "stacks", "site", "plan.sh"), SitePlanScripts.Creates(2000));
        server.Git.Commit("a plan of 2,000 creates");
        var planned = await server.PlanAsync("alice@example.com", "dev");

        var response = await (await server.ClientAsync("alice@example.com")).GetAsync($"api/plans/{planned.Record.PlanId}/markdown");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/markdown", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.False(body.AsSpan().StartsWith("\uFEFF"u8), "no byte order mark");
        var markdown = System.Text.Encoding.UTF8.GetString(body);
        Assert.True(markdown.Length > 100_000, $"{markdown.Length} characters");
        Assert.Equal(Airlock.Application.Views.PlanMarkdown.Render(planned.Summary), markdown);
        Assert.Contains("local_file.page_1999_with_a_long_name_so_rows_are_wide", markdown, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_plan_approved_through_the_api_by_eligible_people_applies_and_its_run_shows_the_timeline(string backend)
    {
        await using var server = await ServerHarness.StartAsync(backend);
        var planId = await PlanAsync(server, "prod");
        var alice = await server.ClientAsync("alice@example.com");

        var listed = await alice.GetFromJsonAsync<JsonObject>("api/plans?stack=site&env=prod&limit=5");
        Assert.Equal(planId, (string?)listed!["plans"]![0]!["plan_id"]);
        var plan = await alice.GetFromJsonAsync<JsonObject>($"api/plans/{planId}");
        Assert.Equal("alice@example.com", (string?)plan!["requester"]);
        Assert.NotNull(plan["summary"]!["counts"]);
        Assert.NotNull(plan["summary"]!["resources"]);
        Assert.NotNull(plan["policy"]!["rules"]);
        Assert.False((bool)plan["approvals"]!["satisfied"]!);
        Assert.Contains("separation of duties", (string?)plan["why_not"], StringComparison.Ordinal);
        var markdown = await alice.GetAsync($"api/plans/{planId}/markdown");
        Assert.Equal("text/markdown", markdown.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("### Plan: ", await markdown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The approver is the token's actor: a body naming someone else changes nothing.
        var self = await alice.PostAsJsonAsync($"api/plans/{planId}/approvals", new { approver = "bob@example.com" });
        await AssertProblemAsync(self, HttpStatusCode.Forbidden, "alice@example.com requested this plan and cannot approve it (separation of duties)");
        var outsider = await (await server.ClientAsync("dave@example.com")).PostAsJsonAsync($"api/plans/{planId}/approvals", new { });
        await AssertProblemAsync(outsider, HttpStatusCode.Forbidden, "dave@example.com is not in a team that may approve this stack");
        Assert.Empty((await alice.GetFromJsonAsync<JsonObject>($"api/plans/{planId}/approvals"))!["decisions"]!.AsArray());

        var bob = await server.ClientAsync("bob@example.com");
        var bobView = await bob.GetFromJsonAsync<JsonObject>($"api/plans/{planId}");
        Assert.Null((string?)bobView!["why_not"]);
        var first = await bob.PostAsJsonAsync($"api/plans/{planId}/approvals", new { destroy_addresses = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var second = await (await server.ClientAsync("carol@example.com")).PostAsync($"api/plans/{planId}/approvals", null);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var standing = await second.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True((bool)standing!["satisfied"]!);
        Assert.Equal(["bob@example.com", "carol@example.com"], standing["decisions"]!.AsArray().Select(d => (string?)d!["approver"]));

        var outcome = await ApplyAsync(server, planId);
        Assert.Equal(RunState.Succeeded, outcome.State);

        var runs = await alice.GetFromJsonAsync<JsonObject>("api/runs?state=succeeded&env=prod");
        Assert.Equal(outcome.RunId, (string?)runs!["runs"]![0]!["run_id"]);
        Assert.Equal(planId, (string?)runs["runs"]![0]!["plan_id"]);
        Assert.Empty((await alice.GetFromJsonAsync<JsonObject>("api/runs?state=failed"))!["runs"]!.AsArray());
        var run = await alice.GetFromJsonAsync<JsonObject>($"api/runs/{outcome.RunId}");
        var states = run!["events"]!.AsArray().Select(e => (string?)e!["to"]).ToList();
        Assert.Equal(["requested", "validating", "queued", "acquiring_locks", "preparing", "verifying_saved_plan", "policy_check", "applying", "verifying", "publishing", "succeeded"], states.Distinct());
        Assert.NotEmpty(run["evidence_ids"]!.AsArray());
        var packet = await alice.GetFromJsonAsync<JsonObject>($"api/evidence/{(long)run["evidence_ids"]![0]!}");
        Assert.Equal(outcome.RunId, (string?)packet!["run_id"]);

        var cancelDone = await alice.PostAsJsonAsync($"api/runs/{outcome.RunId}/cancel", new { reason = "too late" });
        await AssertProblemAsync(cancelDone, HttpStatusCode.Conflict, $"refused: run {outcome.RunId} already ended (succeeded)");
    }

    [Fact]
    public async Task A_plan_made_through_the_api_at_a_commit_is_the_tokens_actors_and_approves_and_applies_like_any_plan()
    {
        await using var server = await ServerHarness.StartAsync(workers: 1);
        var first = server.Git.Git("rev-parse", "HEAD");
        server.Git.Write("stacks/site/content/about.html", "<p>about</p>\n");
        var head = server.Git.Commit("about page");
        var bob = await server.ClientAsync("bob@example.com");

        // Without a commit the server plans its repository's HEAD; the server's own checkout never moves.
        var atHead = (await (await bob.PostAsJsonAsync("api/plans", new { stack = "site", environment = "prod" })).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(head, (string?)atHead["commit"]);

        // The requester is the token's actor, whatever the body says; the commit is planned in its own worktree.
        var posted = await bob.PostAsJsonAsync("api/plans", new { stack = "site", environment = "prod", commit = first[..10], requester = "mallory@example.com" });
        Assert.True(posted.StatusCode == HttpStatusCode.Created, await posted.Content.ReadAsStringAsync());
        var plan = (await posted.Content.ReadFromJsonAsync<JsonObject>())!;
        var planId = (string)plan["plan_id"]!;
        Assert.Equal($"/api/plans/{planId}", posted.Headers.Location?.ToString());
        Assert.Equal("bob@example.com", (string?)plan["requester"]);
        Assert.Equal(first, (string?)plan["commit"]);
        Assert.Equal("allow", (string?)plan["policy"]!["decision"]);
        Assert.Contains("separation of duties", (string?)plan["why_not"], StringComparison.Ordinal);
        var fetched = (await bob.GetFromJsonAsync<JsonObject>($"api/plans/{planId}"))!;
        Assert.Equal(fetched.Select(p => p.Key).Order(StringComparer.Ordinal), plan.Select(p => p.Key).Order(StringComparer.Ordinal));

        Assert.Equal((int)atHead["counts"]!["create"]! - 1, (int)plan["counts"]!["create"]!); // the first commit has no about.html
        Assert.Equal(head, server.Git.Git("rev-parse", "HEAD"));
        Assert.Equal([planId, (string)atHead["plan_id"]!], (await bob.GetFromJsonAsync<JsonObject>("api/plans?stack=site&env=prod&limit=5"))!["plans"]!.AsArray().Select(p => (string)p!["plan_id"]!));

        // A normal plan (the newest, so the one approvals bind to): the requester may not approve it, others may,
        // and it applies on a worker at its commit.
        var self = await bob.PostAsync($"api/plans/{planId}/approvals", null);
        await AssertProblemAsync(self, HttpStatusCode.Forbidden, "bob@example.com requested this plan and cannot approve it (separation of duties)");
        Assert.Equal(HttpStatusCode.OK, (await (await server.ClientAsync("alice@example.com")).PostAsync($"api/plans/{planId}/approvals", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await (await server.ClientAsync("carol@example.com")).PostAsync($"api/plans/{planId}/approvals", null)).StatusCode);
        var applied = await bob.PostAsJsonAsync("api/applies", new { plan_id = planId });
        Assert.Equal(HttpStatusCode.Accepted, applied.StatusCode);
        var runId = (string)(await applied.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
        var events = await SseEvents.ReadAllAsync(bob, $"api/runs/{runId}/log", null);
        Assert.Equal("succeeded", (string?)JsonNode.Parse(events[^1].Data)!["state"]);
        var run = (await bob.GetFromJsonAsync<JsonObject>($"api/runs/{runId}"))!;
        Assert.Equal(planId, (string?)run["plan_id"]);
        Assert.Equal("bob@example.com", (string?)run["requested_by"]);
    }

    [Fact]
    public async Task A_plan_request_with_bad_input_or_changed_approval_rules_is_refused_with_one_line()
    {
        await using var server = await ServerHarness.StartAsync();
        var bob = await server.ClientAsync("bob@example.com");

        Assert.Equal(HttpStatusCode.Unauthorized, (await (await server.ClientAsync()).PostAsJsonAsync("api/plans", new { stack = "site", environment = "prod" })).StatusCode);
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans", new { stack = "site" }), HttpStatusCode.BadRequest, "a plan needs a stack and an environment");
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans", new { stack = "nope", environment = "prod" }), HttpStatusCode.BadRequest, "unknown stack 'nope' (known: site)");
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans", new { stack = "site", environment = "qa" }), HttpStatusCode.BadRequest, "unknown environment 'qa' (known: dev, prod)");
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans", new { stack = "site", environment = "prod", commit = "no-such-branch" }), HttpStatusCode.BadRequest, "unknown commit 'no-such-branch' in the server's workspace repository");
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans", new { stack = "site", environment = "prod", commit = "--output=/tmp/x" }), HttpStatusCode.BadRequest, "unknown commit '--output=/tmp/x'");
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans", new { stack = "site", environment = "prod", region = "mars" }), HttpStatusCode.BadRequest, "region 'mars' is not a target of site in prod");

        // A commit must not change the rules it is judged by: the server's airlock.yaml decides who approves.
        File.WriteAllText(Path.Combine(server.Root, "airlock.yaml"), File.ReadAllText(Path.Combine(server.Root, "airlock.yaml")).Replace("required: 2", "required: 1", StringComparison.Ordinal));
        var weaker = server.Git.Commit("one approval is enough");
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans", new { stack = "site", environment = "prod" }), HttpStatusCode.Conflict, $"refused: commit {weaker[..12]} changes who approves site in prod");
        Assert.Empty((await bob.GetFromJsonAsync<JsonObject>("api/plans"))!["plans"]!.AsArray());
    }

    [Fact]
    public async Task A_rejection_through_the_api_blocks_approval_and_apply_until_a_fresh_plan()
    {
        await using var server = await ServerHarness.StartAsync();
        var planId = await PlanAsync(server, "prod");
        var bob = await server.ClientAsync("bob@example.com");

        await AssertProblemAsync(await bob.PostAsJsonAsync($"api/plans/{planId}/rejections", new { }), HttpStatusCode.BadRequest, "a rejection needs a reason");
        var self = await (await server.ClientAsync("alice@example.com")).PostAsJsonAsync($"api/plans/{planId}/rejections", new { reason = "no" });
        await AssertProblemAsync(self, HttpStatusCode.Forbidden, "alice@example.com requested this plan and cannot approve it (separation of duties)");
        await AssertProblemAsync(await bob.PostAsJsonAsync("api/plans/plan-nope/rejections", new { reason = "x" }), HttpStatusCode.NotFound, "no plan plan-nope");

        var rejected = await bob.PostAsJsonAsync($"api/plans/{planId}/rejections", new { reason = "wrong bucket" });
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var standing = await rejected.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("bob@example.com", (string?)standing!["rejection"]!["rejecter"]);
        Assert.False((bool)standing["satisfied"]!);

        var carol = await server.ClientAsync("carol@example.com");
        var late = await carol.PostAsync($"api/plans/{planId}/approvals", null);
        await AssertProblemAsync(late, HttpStatusCode.Conflict, $"refused: plan {planId} was rejected by bob@example.com: wrong bucket: plan again");
        var view = await carol.GetFromJsonAsync<JsonObject>($"api/plans/{planId}");
        Assert.Equal($"plan {planId} was rejected by bob@example.com: wrong bucket: plan again", (string?)view!["why_not"]);

        var outcome = await ApplyAsync(server, planId);
        Assert.Equal(RunState.Rejected, outcome.State);
        Assert.Contains("rejected by bob@example.com: wrong bucket", outcome.Statement, StringComparison.Ordinal);

        var fresh = await PlanAsync(server, "prod");
        Assert.Equal(HttpStatusCode.OK, (await bob.PostAsync($"api/plans/{fresh}/approvals", null)).StatusCode);
    }

    [Fact]
    public async Task Force_unlock_is_refused_for_non_admins_and_recorded_for_admins()
    {
        await using var server = await ServerHarness.StartAsync(arrange: h =>
        {
            File.AppendAllText(Path.Combine(h.Root, "airlock.yaml"), "\nlocks:\n  admins: [security]\n");
            h.Git.Commit("lock admins");
        });
        var services = server.Host.Services;
        var key = LockKey.Parse("stack:getting-started/prod/local/local/site");
        await services.Store.Runs.CreateAsync("run-held", "site", "prod", "applying", "alice@example.com", CancellationToken.None);
        var attempt = await services.Store.Locks.TryAcquireAsync(key, new LockRequest("run-held", "alice@example.com", "apply", TimeSpan.FromMinutes(5)), CancellationToken.None);
        Assert.NotNull(attempt.Lease);

        var bob = await server.ClientAsync("bob@example.com");
        var locks = await bob.GetFromJsonAsync<JsonObject>("api/locks");
        Assert.Equal(key.Value, (string?)locks!["locks"]![0]!["key"]);
        Assert.Equal("run-held", (string?)locks["locks"]![0]!["run_id"]);

        var refused = await bob.PostAsJsonAsync("api/locks/force-unlock", new { key = key.Value, reason = "stuck" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Single((await bob.GetFromJsonAsync<JsonObject>("api/locks"))!["locks"]!.AsArray());

        var carol = await server.ClientAsync("carol@example.com");
        await AssertProblemAsync(await carol.PostAsJsonAsync("api/locks/force-unlock", new { key = key.Value }), HttpStatusCode.BadRequest, "force-unlock needs key and reason");
        var forced = await carol.PostAsJsonAsync("api/locks/force-unlock", new { key = key.Value, reason = "runner died" });
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Empty((await carol.GetFromJsonAsync<JsonObject>("api/locks"))!["locks"]!.AsArray());
        await AssertProblemAsync(await carol.PostAsJsonAsync("api/locks/force-unlock", new { key = key.Value, reason = "again" }), HttpStatusCode.NotFound, $"lock {key.Value} is not held");

        var run = await carol.GetFromJsonAsync<JsonObject>("api/runs/run-held");
        Assert.Equal("needs_reconciliation", (string?)run!["state"]);
        var last = run["events"]!.AsArray()[^1]!;
        Assert.Equal("carol@example.com", (string?)last["actor"]);
        Assert.Contains("runner died", (string?)last["detail"], StringComparison.Ordinal);
        var evidence = await carol.GetFromJsonAsync<JsonObject>("api/evidence?limit=1000");
        var record = evidence!["records"]!.AsArray().Single(r => (string?)r!["payload"]!["type"] == "lock_force_unlocked");
        Assert.Equal("carol@example.com", (string?)record!["payload"]!["actor"]);
    }

    [Fact]
    public async Task Freezes_start_once_refuse_applies_and_lift()
    {
        await using var server = await ServerHarness.StartAsync();
        var alice = await server.ClientAsync("alice@example.com");
        var started = await alice.PostAsJsonAsync("api/freezes", new { env = "dev", reason = "SEV1 payments outage" });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        Assert.Equal("alice@example.com", (string?)(await started.Content.ReadFromJsonAsync<JsonObject>())!["started_by"]);
        var twice = await (await server.ClientAsync("bob@example.com")).PostAsJsonAsync("api/freezes", new { env = "dev", reason = "again" });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        await AssertProblemAsync(await alice.PostAsJsonAsync("api/freezes", new { env = "dev" }), HttpStatusCode.BadRequest, "a freeze needs env and reason");

        var list = await alice.GetFromJsonAsync<JsonObject>("api/freezes");
        Assert.True((bool)list!["freezes"]![0]!["active"]!);

        var planId = await PlanAsync(server, "dev");
        var frozen = await ApplyAsync(server, planId);
        Assert.Equal(RunState.Rejected, frozen.State);
        Assert.Contains("incident freeze on dev: SEV1 payments outage", frozen.Statement, StringComparison.Ordinal);

        var lifted = await alice.DeleteAsync("api/freezes/dev");
        Assert.Equal(HttpStatusCode.OK, lifted.StatusCode);
        Assert.False((bool)(await lifted.Content.ReadFromJsonAsync<JsonObject>())!["active"]!);
        Assert.False((bool)(await alice.GetFromJsonAsync<JsonObject>("api/freezes"))!["freezes"]![0]!["active"]!);
    }

    [Fact]
    public async Task Evidence_pages_verifies_and_exports_ndjson_that_parses()
    {
        await using var server = await ServerHarness.StartAsync();
        var planId = await PlanAsync(server, "dev");
        Assert.Equal(RunState.Succeeded, (await ApplyAsync(server, planId)).State);
        var client = await server.ClientAsync("alice@example.com");

        var page = await client.GetFromJsonAsync<JsonObject>("api/evidence?limit=2");
        Assert.Equal([1L, 2L], page!["records"]!.AsArray().Select(r => (long)r!["sequence"]!));
        Assert.Equal(2, (long)page["next_after"]!);
        var next = await client.GetFromJsonAsync<JsonObject>("api/evidence?limit=2&after=2");
        Assert.Equal(3, (long)next!["records"]![0]!["sequence"]!);
        Assert.Equal((string?)page["records"]![1]!["hash"], (string?)next["records"]![0]!["previous_hash"]);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/evidence/999999")).StatusCode);

        var verify = await (await client.PostAsync("api/evidence/verify", null)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.True((bool)verify!["ok"]!, verify.ToJsonString());
        Assert.True((long)verify["records"]! >= 3);
        Assert.True((long)verify["checkpoints_verified"]! >= 1);

        var export = await client.GetAsync("api/evidence/export");
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType!.MediaType);
        var lines = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal("header", (string?)lines[0]["type"]);
        Assert.Contains(lines, l => (string?)l["type"] == "checkpoint");
        Assert.Equal((long)verify["records"]!, lines.Count(l => (string?)l["type"] == "record"));
    }

    [Fact]
    public async Task The_openapi_document_lists_every_route()
    {
        await using var server = await ServerHarness.StartAsync();
        var document = await (await server.ClientAsync()).GetFromJsonAsync<JsonObject>("openapi/v1.json");
        var paths = document!["paths"]!.AsObject();

        // The routes come from the app itself, so a new route without a name or a summary fails here.
        var endpoints = server.Host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var api = endpoints.Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal)).ToList();
        var documented = endpoints.Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is not null && e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true }).ToList();
        Assert.All(api, e => Assert.Contains(e, documented));
        var names = new HashSet<string>(StringComparer.Ordinal);
        var routes = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var endpoint in documented)
        {
            // As OpenAPI writes it: no trailing slash, parameters without their constraints ({sequence:long} → {sequence}).
            var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
            {
                RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
                RoutePatternLiteralPart literal => literal.Content,
                RoutePatternSeparatorPart separator => separator.Content,
                _ => throw new InvalidOperationException($"unexpected route part in {endpoint.RoutePattern.RawText}"),
            }))));
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => m.ToLowerInvariant()))
            {
                Assert.True(name is not null, $"{method} {path} has no name (WithName)");
                Assert.True(names.Add(name), $"{method} {path}: the name {name} is used twice");
                Assert.True(paths.ContainsKey(path), $"{path} is missing from the OpenAPI document");
                var operation = paths[path]![method];
                Assert.True(operation is not null, $"{method} {path} is missing");
                Assert.Equal(name, (string?)operation!["operationId"]);
                Assert.False(string.IsNullOrEmpty((string?)operation["summary"]), $"{method} {path} has no summary");
                (routes.TryGetValue(path, out var set) ? set : routes[path] = []).Add(method);
            }
        }

        // And what the API must at least have, so an empty or shrinking route table cannot pass.
        var expected = new Dictionary<string, string[]>
        {
            ["/api/me"] = ["get"],
            ["/api/plans"] = ["get", "post"],
            ["/api/plans/{id}"] = ["get"],
            ["/api/plans/{id}/markdown"] = ["get"],
            ["/api/plans/{id}/approvals"] = ["get", "post"],
            ["/api/plans/{id}/rejections"] = ["post"],
            ["/api/plans/{id}/break-glass"] = ["post"],
            ["/api/applies"] = ["post"],
            ["/api/applies/{id}"] = ["get"],
            ["/api/runs"] = ["get"],
            ["/api/runs/{id}"] = ["get"],
            ["/api/runs/{id}/cancel"] = ["post"],
            ["/api/runs/{id}/log"] = ["get"],
            ["/api/queue"] = ["get"],
            ["/api/locks"] = ["get"],
            ["/api/locks/force-unlock"] = ["post"],
            ["/api/freezes"] = ["get", "post"],
            ["/api/freezes/{env}"] = ["delete"],
            ["/api/evidence"] = ["get"],
            ["/api/evidence/{sequence}"] = ["get"],
            ["/api/evidence/verify"] = ["post"],
            ["/api/evidence/export"] = ["get"],
            ["/api/releases"] = ["get"],
            ["/api/releases/{id}"] = ["get"],
            ["/api/trace/{query}"] = ["get"],
        };
        foreach (var (path, methods) in expected)
        {
            Assert.True(routes.TryGetValue(path, out var have), $"{path} is not a documented route");
            Assert.Equal(methods.Order(), have.Order());
        }
    }

    [Fact]
    public async Task Metrics_are_read_from_the_store_on_each_scrape_and_each_replica_has_its_own_registry()
    {
        await using var server = await ServerHarness.StartAsync();
        await using var other = await ServerHarness.StartAsync();
        Assert.NotSame(server.Host.MetricsRegistry, other.Host.MetricsRegistry);
        var client = await server.ClientAsync();
        Assert.Contains("airlock_runs{state=\"succeeded\"} 0", await client.GetStringAsync("metrics"), StringComparison.Ordinal);

        var planId = await PlanAsync(server, "dev");
        Assert.Equal(RunState.Succeeded, (await ApplyAsync(server, planId)).State);
        var metrics = await client.GetStringAsync("metrics");
        Assert.Contains("airlock_runs{state=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("airlock_apply_duration_seconds_count 1", metrics, StringComparison.Ordinal);
        Assert.Contains("airlock_apply_duration_seconds_bucket{le=\"+Inf\"} 1", metrics, StringComparison.Ordinal);
        foreach (var family in new[] { "airlock_run_failures", "airlock_queue_depth", "airlock_queue_waiting_oldest_seconds", "airlock_queue_waiting_total_seconds", "airlock_locks_held", "airlock_locks_expired", "airlock_lock_waiting_oldest_seconds", "airlock_apply_duration_seconds", "airlock_queue_wait_seconds", "airlock_lock_wait_seconds", "http_requests_received_total" })
        {
            Assert.Contains("# TYPE " + family, metrics, StringComparison.Ordinal);
        }

        // The other replica's scrape reads its own (empty) store.
        Assert.Contains("airlock_runs{state=\"succeeded\"} 0", await (await other.ClientAsync()).GetStringAsync("metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_queries_and_unknown_things_get_one_line_problems()
    {
        await using var server = await ServerHarness.StartAsync();
        var client = await server.ClientAsync("alice@example.com");
        await AssertProblemAsync(await client.GetAsync("api/runs?state=bogus"), HttpStatusCode.BadRequest, "unknown run state 'bogus'");
        await AssertProblemAsync(await client.GetAsync("api/plans/plan-nope"), HttpStatusCode.NotFound, "no plan plan-nope");
        await AssertProblemAsync(await client.GetAsync("api/plans?limit=5000"), HttpStatusCode.BadRequest, "limit must be between 1 and 1000");
        await AssertProblemAsync(await client.GetAsync("api/releases/rel-nope"), HttpStatusCode.NotFound, "no release rel-nope");
        await AssertProblemAsync(await client.PostAsJsonAsync("api/runs/run-nope/cancel", new { reason = "x" }), HttpStatusCode.NotFound, "no run run-nope");
        await AssertProblemAsync(await client.PostAsJsonAsync("api/locks/force-unlock", new { key = "nonsense", reason = "x" }), HttpStatusCode.BadRequest, "lock key 'nonsense'");
        var queue = await client.GetFromJsonAsync<JsonObject>("api/queue");
        Assert.Empty(queue!["queues"]!.AsArray());
        Assert.Empty((await client.GetFromJsonAsync<JsonObject>("api/releases"))!["releases"]!.AsArray());
        Assert.Equal(HttpStatusCode.Unauthorized, (await (await server.ClientAsync()).GetAsync("api/plans")).StatusCode);
    }

    // Before, the framework answered these with an empty 400 (415, 404, 405): no reason for a script or a person to act on.
    [Fact]
    public async Task Bodies_and_parameters_the_api_cannot_read_get_a_one_line_reason_with_the_position()
    {
        await using var server = await ServerHarness.StartAsync();
        var client = await server.ClientAsync("alice@example.com");
        static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

        await AssertProblemAsync(await client.PostAsync("api/plans", Json("{stack: \"site\"}")), HttpStatusCode.BadRequest,
            "the request body is not the JSON this endpoint takes: 's' is an invalid start of a property name. Expected a '\"' (at line 1, column 2)");
        await AssertProblemAsync(await client.PostAsync("api/plans", Json("{\"stack\": \"site\",\n")), HttpStatusCode.BadRequest,
            "the request body is not the JSON this endpoint takes: Expected start of a property name or value, but instead reached end of data (at line 2, column 1)");
        await AssertProblemAsync(await client.PostAsync("api/plans", Json("[\"site\"]")), HttpStatusCode.BadRequest,
            "the request body is not the JSON this endpoint takes: expected an object (at line 1, column 2)");
        await AssertProblemAsync(await client.PostAsync("api/plans/plan-x/approvals", Json("{\"destroy_addresses\": \"aws_db.main\"}")), HttpStatusCode.BadRequest,
            "the request body is not the JSON this endpoint takes: expected an array (at $.destroy_addresses, line 1, column 36)");
        await AssertProblemAsync(await client.PostAsync("api/plans", Json("{\"stack\": 1}")), HttpStatusCode.BadRequest,
            "the request body is not the JSON this endpoint takes: a value of the wrong type (at $.stack, line 1, column 12)");
        await AssertProblemAsync(await client.GetAsync("api/plans?limit=ten"), HttpStatusCode.BadRequest, "parameter limit: expected a number, got \"ten\"");
        await AssertProblemAsync(await client.PostAsync("api/applies", new StringContent("plan_id=plan-x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")),
            HttpStatusCode.UnsupportedMediaType, "the request body must be JSON: send Content-Type: application/json");
        await AssertProblemAsync(await client.GetAsync("api/nothing-here"), HttpStatusCode.NotFound, "no API route GET /api/nothing-here (the API is described at /openapi/v1.json)");
        await AssertProblemAsync(await client.DeleteAsync("api/plans"), HttpStatusCode.MethodNotAllowed, "/api/plans does not take DELETE");

        // Nothing was planned by any of them.
        Assert.Empty((await client.GetFromJsonAsync<JsonObject>("api/plans"))!["plans"]!.AsArray());
    }

    [Fact]
    public async Task An_unknown_token_is_told_apart_from_a_missing_one_without_echoing_it()
    {
        await using var server = await ServerHarness.StartAsync();
        var anonymous = await server.ClientAsync();
        using var forged = new HttpRequestMessage(HttpMethod.Get, "api/plans");
        forged.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "alk_not-a-real-token");

        var missing = await anonymous.GetAsync("api/plans");
        var unknown = await anonymous.SendAsync(forged);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("authentication required: send Authorization: Bearer <token> (airlock token create)", (string?)JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["title"]);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var body = await unknown.Content.ReadAsStringAsync();
        Assert.Equal("the token presented is unknown, revoked or expired (airlock token list shows the live ones)", (string?)JsonNode.Parse(body)!["title"]);
        Assert.DoesNotContain("alk_not-a-real-token", body, StringComparison.Ordinal);
    }

    internal static async Task<string> PlanAsync(ServerHarness server, string environment, string actor = "alice@example.com")
    {
        var outcome = await new PlanService(server.Host.Services).PlanAsync(new PlanRequest("site", environment, actor), NullOutputSink.Instance, CancellationToken.None);
        return outcome.Record.PlanId;
    }

    internal static Task<ApplyOutcome> ApplyAsync(ServerHarness server, string planId, string actor = "alice@example.com") =>
        new ApplyService(server.Host.Services).ApplyAsync(new ApplyRequest(planId, actor), SilentApplyObserver.Instance, CancellationToken.None);

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string titleStart)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!;
        Assert.StartsWith(titleStart, (string?)problem["title"], StringComparison.Ordinal);
        Assert.DoesNotContain("\n", (string?)problem["title"], StringComparison.Ordinal);
        Assert.DoesNotContain(" at Airlock.", body, StringComparison.Ordinal);
    }
}
