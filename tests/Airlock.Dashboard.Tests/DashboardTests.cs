using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Airlock.Application.Approvals;
using Airlock.Application.Delivery;
using Airlock.Domain.Delivery;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Releases;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Server.Tests;
using Microsoft.Playwright;

namespace Airlock.Dashboard.Tests;

/// <summary>The dashboard in a real browser (Debian Chromium via Playwright) against a real server and workspace.</summary>
public sealed class DashboardTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task SignInAsync(IPage page, ServerHarness server, string actor, params string[] teams)
    {
        var token = await server.TokenAsync(actor, teams);
        await page.GotoAsync(server.BaseUrl + "/");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#token", token);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("#actor");
        Assert.Equal(actor, await page.InnerTextAsync("#actor"));
    }

    private static async Task<string> SeedRunAsync(ServerHarness server, string planId, params RunState[] path)
    {
        var runs = server.Host.Services.Store.Runs;
        var id = "run-" + Guid.NewGuid().ToString("N")[..10];
        await runs.CreateAsync(id, "site", "prod", RunState.Requested.WireName(), "bob@example.com", None);
        var current = RunState.Requested;
        foreach (var next in path)
        {
            await runs.TransitionAsync(id, current.WireName(), next.WireName(), "airlock", $"to {next.WireName()}", None);
            current = next;
        }

        await runs.SaveDetailsAsync(new RunDetails(id, planId, "bob@example.com", 1, null, null, null, "{}"), None);
        return id;
    }

    [Fact]
    public async Task Anonymous_visitors_are_sent_to_sign_in_a_bad_token_is_refused_and_a_token_signs_in_with_a_strict_httponly_cookie()
    {
        await using var server = await ServerHarness.StartAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "/queue");
        Assert.EndsWith("/login?returnUrl=%2Fqueue", page.Url, StringComparison.Ordinal);

        await page.FillAsync("#token", "alk_not-a-real-token");
        await page.ClickAsync("button[type=submit]");
        Assert.Contains("unknown, revoked or expired token", await page.InnerTextAsync(".error"), StringComparison.Ordinal);

        await page.FillAsync("#token", await server.TokenAsync("alice@example.com", "platform"));
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("#actor");
        Assert.EndsWith("/queue", page.Url, StringComparison.Ordinal);
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "airlock_token");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        await page.ClickAsync("text=Sign out");
        await page.GotoAsync(server.BaseUrl + "/");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_plans_page_lists_where_each_plan_stands_and_which_ones_the_viewer_can_approve()
    {
        await using var server = await ServerHarness.StartAsync();
        var services = server.Host.Services;
        var dev = await server.PlanAsync("alice@example.com", "dev");
        var applied = await new Airlock.Application.Apply.ApplyService(services).ApplyAsync(new Airlock.Application.Apply.ApplyRequest(dev.Record.PlanId, "alice@example.com"), Airlock.Application.Apply.SilentApplyObserver.Instance, None);
        Assert.Equal(RunState.Succeeded, applied.State);
        var older = await server.PlanAsync("alice@example.com", "prod");
        var latest = await server.PlanAsync("alice@example.com", "prod");
        async Task<Dictionary<string, string>> StatusesAsync(IPage page, string query = "")
        {
            await page.GotoAsync(server.BaseUrl + "/plans" + query);
            var rows = await page.Locator("#plans tbody tr").EvaluateAllAsync<string[][]>("els => els.map(e => [e.dataset.plan, e.dataset.status])");
            return rows.ToDictionary(r => r[0], r => r[1]);
        }

        var bob = await browser.NewPageAsync();
        await SignInAsync(bob, server, "bob@example.com", "platform");
        await bob.GotoAsync(server.BaseUrl + "/");
        await bob.ClickAsync("header nav a:text-is('Plans')");
        Assert.EndsWith("/plans", bob.Url, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<string, string>
        {
            [dev.Record.PlanId] = "applied",
            [older.Record.PlanId] = "superseded",
            [latest.Record.PlanId] = "awaiting_approval",
        }, await StatusesAsync(bob));
        var waiting = bob.Locator($"#plans tr[data-plan='{latest.Record.PlanId}']");
        Assert.Contains("needs 2 approval(s), has 0", await waiting.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await waiting.Locator("a:text-is('you can approve')").CountAsync());
        Assert.Contains($"superseded by {latest.Record.PlanId}", await bob.Locator($"#plans tr[data-plan='{older.Record.PlanId}']").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await bob.Locator($"#plans tr[data-plan='{dev.Record.PlanId}'] a[href='/runs/{applied.RunId}']").CountAsync());
        await BrowserFixture.ScreenshotAsync(bob, "plans");
        Assert.Equal([latest.Record.PlanId], (await StatusesAsync(bob, "?awaiting=1")).Keys);
        Assert.Equal([dev.Record.PlanId], (await StatusesAsync(bob, "?environment=dev")).Keys);

        // The requester sees the same status, but no approval of their own to give (separation of duties).
        var alice = await browser.NewPageAsync();
        await SignInAsync(alice, server, "alice@example.com", "platform");
        Assert.Equal("awaiting_approval", (await StatusesAsync(alice))[latest.Record.PlanId]);
        Assert.Equal(0, await alice.Locator("a:text-is('you can approve')").CountAsync());

        // Bob's approval counts once: the plan still waits (for security), and no longer for him.
        var approvals = new ApprovalService(services);
        await approvals.ApproveAsync(new ApproveRequest(latest.Record.PlanId, "bob@example.com", []), None);
        Assert.Equal("awaiting_approval", (await StatusesAsync(bob))[latest.Record.PlanId]);
        Assert.Contains("needs 2 approval(s), has 1", await waiting.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await waiting.Locator("a:text-is('you can approve')").CountAsync());
        await approvals.ApproveAsync(new ApproveRequest(latest.Record.PlanId, "carol@example.com", []), None);
        Assert.Equal("approved", (await StatusesAsync(bob))[latest.Record.PlanId]);

        // A newer plan of the target supersedes the approved one; a rejection ends its wait for everyone.
        var newest = await server.PlanAsync("alice@example.com", "prod");
        await approvals.RejectAsync(new RejectRequest(newest.Record.PlanId, "carol@example.com", "wrong bucket"), None);
        var after = await StatusesAsync(bob);
        Assert.Equal(("superseded", "rejected"), (after[latest.Record.PlanId], after[newest.Record.PlanId]));
        Assert.Empty(await StatusesAsync(bob, "?awaiting=1"));
        Assert.Equal("No plan is waiting for approval.", await bob.InnerTextAsync("main p.empty"));
    }

    [Fact]
    public async Task A_plan_its_plan_time_policy_denies_is_listed_as_denied_with_the_failed_rule_not_as_ready()
    {
        // dev needs no approval, so without the policy check the plan would read "approved, ready to apply".
        await using var server = await ServerHarness.StartAsync(arrange: harness =>
        {
            File.AppendAllText(Path.Combine(harness.Root, "airlock.yaml"), "\npolicies:\n  custom: policies\n");
            Directory.CreateDirectory(Path.Combine(harness.Root, "policies"));
            File.WriteAllText(Path.Combine(harness.Root, "policies", "dev-closed.js"),
                "function evaluate(input) { return input.environment.name === 'dev' ? { result: 'fail', message: 'dev is closed this week' } : 'pass'; }\n");
            harness.Git.Commit("a custom rule that denies dev");
        });
        var plan = await server.PlanAsync("alice@example.com", "dev");
        Assert.Equal("deny", plan.Policy.Decision.ToString().ToLowerInvariant());
        var page = await browser.NewPageAsync();
        await SignInAsync(page, server, "bob@example.com", "platform");

        await page.GotoAsync(server.BaseUrl + "/plans");

        var row = page.Locator($"#plans tr[data-plan='{plan.Record.PlanId}']");
        Assert.Equal("policy_denied", await row.GetAttributeAsync("data-status"));
        Assert.Contains("dev-closed: dev is closed this week", await row.InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queue_and_locks_pages_show_a_real_held_lock_and_a_queued_item_with_its_position_and_reason()
    {
        await using var server = await ServerHarness.StartAsync();
        var store = server.Host.Services.Store;
        var key = LockKey.Stack("getting-started", "prod", "local", "local", "site");
        var held = await store.Locks.TryAcquireAsync(key, new LockRequest("run-holder", "alice@example.com", "applying site", TimeSpan.FromMinutes(10)), None);
        Assert.True(held.Acquired);
        var queue = new QueueDefinition("prod/site", new QueueMatch("prod", ["site"]), 1, null, [], StalePlanPolicy.Fail);
        await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-waiting", "prod", "site", QueueDefinition.StandardClass, null, [key], "waiting for approval"), None);

        var page = await browser.NewPageAsync();
        await SignInAsync(page, server, "alice@example.com", "platform");
        await page.GotoAsync(server.BaseUrl + "/locks");
        var row = page.Locator($"tr[data-lock='{key.Value}']");
        Assert.Contains("alice@example.com", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("run-holder", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(held.Lease!.FencingToken.ToString(CultureInfo.InvariantCulture), await row.Locator(".fencing").InnerTextAsync());
        await BrowserFixture.ScreenshotAsync(page, "locks");

        await page.GotoAsync(server.BaseUrl + "/queue");
        var waiting = page.Locator("tr.waiting");
        Assert.Equal("1", await waiting.Locator(".position").InnerTextAsync());
        Assert.Contains("run-waiting", await waiting.InnerTextAsync(), StringComparison.Ordinal);
        // The blocked reason names what it waits for first: the lock the holder has.
        Assert.Contains(key.Value, await waiting.Locator(".blocked").InnerTextAsync(), StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "queue");

        await page.GotoAsync(server.BaseUrl + "/");
        Assert.Equal("1", await page.InnerTextAsync("#tile-waiting"));
        Assert.Equal("1", await page.InnerTextAsync("#tile-locks"));
        await BrowserFixture.ScreenshotAsync(page, "overview");
    }

    [Fact]
    public async Task The_plan_page_shows_risks_first_the_requester_cannot_approve_and_an_approval_clicked_in_the_page_is_recorded_for_that_actor()
    {
        await using var server = await ServerHarness.StartAsync();
        // A deployed file the content no longer has: the plan deletes it, a destroy risk.
        Directory.CreateDirectory(Path.Combine(server.Root, "target", "prod", "site"));
        await File.WriteAllTextAsync(Path.Combine(server.Root, "target", "prod", "site", "old.html"), "old");
        var plan = await server.PlanAsync("bob@example.com");
        var planUrl = server.BaseUrl + "/plans/" + plan.Record.PlanId;

        var requester = await browser.NewPageAsync();
        await SignInAsync(requester, server, "bob@example.com", "platform");
        await requester.GotoAsync(planUrl);
        var sections = await requester.Locator("main section[id]").EvaluateAllAsync<string[]>("els => els.map(e => e.id)");
        Assert.Equal(["risks", "changes", "policy", "approvals", "plan-runs"], sections);
        Assert.Contains("local_file.old_html", await requester.InnerTextAsync("#risks"), StringComparison.Ordinal);
        Assert.Equal("delete (1)", await requester.Locator("#changes h3").First.InnerTextAsync());
        Assert.True(await requester.IsDisabledAsync("#approve"));
        Assert.Contains("requested this plan", await requester.InnerTextAsync("#approve-why"), StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(requester, "plan-requester");

        var approver = await browser.NewPageAsync();
        await SignInAsync(approver, server, "alice@example.com", "platform");
        await approver.GotoAsync(planUrl);
        Assert.False(await approver.IsDisabledAsync("#approve"));
        await approver.CheckAsync("input[name=destroy][value='local_file.old_html']");
        await approver.ClickAsync("#approve");
        await approver.WaitForSelectorAsync("#message");
        Assert.Equal("your decision was recorded", await approver.InnerTextAsync("#message"));
        Assert.Contains("alice@example.com", await approver.InnerTextAsync(".decisions"), StringComparison.Ordinal);
        Assert.True(await approver.IsDisabledAsync("#approve"));
        await BrowserFixture.ScreenshotAsync(approver, "plan-approved");

        // The API reflects the click: read over HTTP with someone else's token, the decision is the signed-in actor's.
        var carol = await server.ClientAsync("carol@example.com");
        var recorded = (await carol.GetFromJsonAsync<JsonObject>($"api/plans/{plan.Record.PlanId}/approvals"))!;
        var decision = Assert.Single(recorded["decisions"]!.AsArray())!;
        Assert.Equal(("alice@example.com", ApprovalRecord.Approved), ((string?)decision["approver"], (string?)decision["decision"]));
        Assert.Contains("local_file.old_html", decision["binding"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(["alice@example.com"], recorded["counted"]!.AsArray().Select(a => (string?)a));
        Assert.False((bool)recorded["satisfied"]!); // prod needs a second approver, from security
    }

    [Fact]
    public async Task An_eligible_approver_rejects_in_the_page_with_a_reason_and_the_plan_is_blocked()
    {
        await using var server = await ServerHarness.StartAsync();
        var plan = await server.PlanAsync("bob@example.com");
        var page = await browser.NewPageAsync();
        await SignInAsync(page, server, "carol@example.com", "security");
        await page.GotoAsync(server.BaseUrl + "/plans/" + plan.Record.PlanId);
        await page.FillAsync("#reject-reason", "touches the wrong site");
        await page.ClickAsync("#reject");
        await page.WaitForSelectorAsync("#rejection");
        Assert.Contains("rejected by carol@example.com: touches the wrong site", await page.InnerTextAsync("#rejection"), StringComparison.Ordinal);
        Assert.True(await page.IsDisabledAsync("#approve"));

        var recorded = await new ApprovalService(server.Host.Services).ListAsync(plan.Record.PlanId, None);
        Assert.Equal(("carol@example.com", ApprovalRecord.Rejected), (recorded.Decisions.Single().Approver, recorded.Decisions.Single().Decision));
        Assert.NotNull(recorded.Rejection);
    }

    [Fact]
    public async Task A_form_post_without_the_pages_form_token_is_refused_and_records_nothing()
    {
        await using var server = await ServerHarness.StartAsync();
        var plan = await server.PlanAsync("bob@example.com");
        var page = await browser.NewPageAsync();
        await SignInAsync(page, server, "alice@example.com", "platform");
        var response = await page.APIRequest.PostAsync(server.BaseUrl + "/plans/" + plan.Record.PlanId + "/approve",
            new APIRequestContextOptions { Form = page.APIRequest.CreateFormData().Set("form_token", "forged") });
        Assert.Equal(403, response.Status);
        Assert.Empty((await new ApprovalService(server.Host.Services).ListAsync(plan.Record.PlanId, None)).Decisions);
    }

    [Fact]
    public async Task The_run_page_shows_the_timeline_in_order_and_says_no_log_when_the_server_has_none()
    {
        await using var server = await ServerHarness.StartAsync();
        var plan = await server.PlanAsync("bob@example.com", "dev");
        var runId = await SeedRunAsync(server, plan.Record.PlanId, RunState.Validating, RunState.Queued, RunState.AcquiringLocks);
        var page = await browser.NewPageAsync();
        await SignInAsync(page, server, "alice@example.com", "platform");
        await page.GotoAsync(server.BaseUrl + "/runs");
        await page.ClickAsync($"a[href='/runs/{runId}']");

        // The plan page lists the plan's applies, linked to their runs.
        var planPage = await browser.NewPageAsync();
        await SignInAsync(planPage, server, "alice@example.com", "platform");
        await planPage.GotoAsync(server.BaseUrl + "/plans/" + plan.Record.PlanId);
        Assert.Equal(["acquiring_locks"], await planPage.Locator($"#plan-runs tr[data-run='{runId}'] .pill").AllInnerTextsAsync());
        Assert.Equal(1, await planPage.Locator($"#plan-runs a[href='/runs/{runId}']").CountAsync());
        var steps = await page.Locator("#timeline li").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.to)");
        Assert.Equal(["requested", "validating", "queued", "acquiring_locks"], steps);
        Assert.Equal("acquiring_locks", await page.InnerTextAsync("#run-state"));
        await page.WaitForFunctionAsync("() => document.getElementById('log-status').textContent !== 'loading…'");
        var logStatus = await page.InnerTextAsync("#log-status");
        Assert.True(logStatus is "no log" or "live" or "finished", logStatus);

        // The timeline fragment run.js refreshes from: the signed-in browser's cookie reads it, nobody else does.
        var fragment = await page.APIRequest.GetAsync(server.BaseUrl + $"/runs/{runId}/timeline");
        Assert.Equal(200, fragment.Status);
        Assert.Contains("data-to=\"acquiring_locks\"", await fragment.TextAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await (await server.ClientAsync()).GetAsync($"runs/{runId}/timeline")).StatusCode);
        await BrowserFixture.ScreenshotAsync(page, "run");

        // A finished run with no stored lines (one from before every run's log was stored) says so instead of an empty panel.
        var finished = await SeedRunAsync(server, plan.Record.PlanId, RunState.Validating, RunState.Rejected);
        await page.GotoAsync(server.BaseUrl + $"/runs/{finished}");
        await page.WaitForFunctionAsync("() => document.getElementById('log-status').textContent.startsWith('finished')");
        Assert.Equal("finished, no lines recorded", await page.InnerTextAsync("#log-status"));
    }

    [Fact]
    public async Task The_run_page_follows_a_real_apply_and_shows_its_log_lines_live_until_it_finishes()
    {
        await using var server = await ServerHarness.StartAsync(workers: 1);
        // The apply says a known line, then holds (before changing anything) while target/hold-apply exists.
        var apply = Path.Combine(server.Root, "stacks", "site", "apply.sh");
        File.WriteAllText(apply, File.ReadAllText(apply).Replace(
            ". ./common.sh\n",
            ". ./common.sh\necho \"site: held by the test\"\nwhile [ -f ../../target/hold-apply ]; do sleep 0.1; done\n",
            StringComparison.Ordinal));
        server.Git.Commit("an apply the test can hold");
        var hold = Path.Combine(server.Root, "target", "hold-apply");
        Directory.CreateDirectory(Path.GetDirectoryName(hold)!);
        await File.WriteAllTextAsync(hold, "held by the test\n");
        try
        {
            var plan = await server.PlanAsync("bob@example.com", "dev");
            var bob = await server.ClientAsync("bob@example.com");
            var posted = await bob.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = plan.Record.PlanId });
            var runId = (string)(await posted.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
            var store = server.Host.Services.Store;
            var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
            while ((await store.RunLogs.ReadAsync(runId, 0, 1000, None)).All(l => l.Line != "site: held by the test"))
            {
                Assert.True(DateTimeOffset.UtcNow < deadline, "the apply never started");
                await Task.Delay(100);
            }

            var page = await browser.NewPageAsync();
            await SignInAsync(page, server, "alice@example.com", "platform");
            await page.GotoAsync(server.BaseUrl + "/runs/" + runId);
            // While the apply is held: the lines so far arrive over the stream, which stays open.
            await page.WaitForFunctionAsync("() => document.getElementById('log').textContent.includes('site: held by the test')");
            Assert.Equal("live", await page.InnerTextAsync("#log-status"));
            Assert.Equal("applying", await page.InnerTextAsync("#run-state"));
            Assert.DoesNotContain("Apply complete!", await page.InnerTextAsync("#log"), StringComparison.Ordinal);
            var timelineSteps = "els => els.map(e => e.dataset.to)";
            var held = await page.Locator("#timeline li").EvaluateAllAsync<string[]>(timelineSteps);
            Assert.Equal("applying", held[^1]);
            Assert.DoesNotContain("succeeded", held);
            await page.EvaluateAsync("() => { window.notReloaded = true; }");

            // Released: the rest of the log arrives in the open page, then the end of the stream.
            File.Delete(hold);
            await page.WaitForFunctionAsync(
                "() => document.getElementById('log-status').textContent === 'finished'",
                null,
                new PageWaitForFunctionOptions { Timeout = 90_000 });
            var log = await page.InnerTextAsync("#log");
            Assert.Contains("Apply complete! Resources: ", log, StringComparison.Ordinal);
            Assert.Contains("→ succeeded", log, StringComparison.Ordinal);
            Assert.Equal("succeeded", await page.InnerTextAsync("#run-state"));
            Assert.True(log.IndexOf("site: held by the test", StringComparison.Ordinal) < log.IndexOf("Apply complete!", StringComparison.Ordinal));
            Assert.Equal(1, await page.Locator("#log .line.stdout", new PageLocatorOptions { HasTextString = "Apply complete!" }).CountAsync());

            // The timeline followed too, in the same page (no reload): it ends at the final state, as the store has it.
            await page.WaitForFunctionAsync("() => document.querySelector('#timeline li:last-child')?.dataset.to === 'succeeded'");
            Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
            var steps = await page.Locator("#timeline li").EvaluateAllAsync<string[]>(timelineSteps);
            var stored = (await store.Runs.ReadEventsAsync(runId, None)).Select(e => e.To).ToArray();
            Assert.Equal(stored, steps);
            Assert.Equal("succeeded", steps[^1]);
            Assert.Contains("ok", await page.GetAttributeAsync("#run-state", "class") ?? string.Empty, StringComparison.Ordinal);
            await BrowserFixture.ScreenshotAsync(page, "run-live-log");
        }
        finally
        {
            File.Delete(hold); // a failed wait must not leave the apply held for the replica to cancel
        }
    }

    [Fact]
    public async Task Releases_show_per_environment_and_wave_progress_and_evidence_shows_a_verified_chain()
    {
        await using var server = await ServerHarness.StartAsync();
        var plan = await server.PlanAsync("bob@example.com");
        await new ApprovalService(server.Host.Services).ApproveAsync(new ApproveRequest(plan.Record.PlanId, "alice@example.com", []), None);
        var progress = new ReleaseProgress
        {
            Version = "v1.2.0",
            Commit = plan.Record.Commit,
            InfraVersion = "v0.9.1",
            Actor = "bob@example.com",
            Environments =
            [
                new EnvironmentProgress { Name = "dev", Status = StageStatus.Succeeded, Waves = [new WaveProgress { Name = "dev", Status = StageStatus.Succeeded, Targets = [new TargetProgress { Stack = "site", Status = TargetStatus.Applied }] }] },
                new EnvironmentProgress { Name = "prod", Status = StageStatus.Waiting, Reason = "waiting for approval", Waves = [new WaveProgress { Name = "prod", Status = StageStatus.Waiting, Targets = [new TargetProgress { Stack = "site", Status = TargetStatus.AwaitingApproval, PlanId = plan.Record.PlanId }] }] },
            ],
        };
        var now = server.Host.Services.Time.GetUtcNow();
        await server.Host.Services.Store.Releases.CreateAsync(new ReleaseRecord("rel-test1", "site", "v1.2.0", plan.Record.Commit, "waiting", now, now, progress.ToJson(), null, null), None);

        var page = await browser.NewPageAsync();
        await SignInAsync(page, server, "alice@example.com", "platform");
        await page.GotoAsync(server.BaseUrl + "/releases");
        await page.ClickAsync("a[href='/releases/rel-test1']");
        Assert.Equal("waiting", await page.InnerTextAsync("#release-state"));
        Assert.Contains("1/1 done", await page.InnerTextAsync("[data-environment=dev] [data-wave=dev] h4"), StringComparison.Ordinal);
        Assert.Contains("0/1 done", await page.InnerTextAsync("[data-environment=prod] [data-wave=prod] h4"), StringComparison.Ordinal);
        Assert.Contains("AwaitingApproval", await page.InnerTextAsync("[data-environment=prod]"), StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "release");

        await page.GotoAsync(server.BaseUrl + "/evidence");
        Assert.Equal("verified", await page.InnerTextAsync("#chain-status"));
        Assert.Contains("event: approved", await page.InnerTextAsync("table.evidence"), StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "evidence");

        // A record appended after the check: the newest records are read afresh, the chain check is shared for 15 s.
        var checkedAt = await page.InnerTextAsync("#verified-at");
        var viewed = DateTimeOffset.UtcNow;
        await server.PlanAsync("bob@example.com");
        long head = 0;
        await foreach (var record in server.Host.Services.Store.Evidence.ReadAsync(1, None))
        {
            head = record.Sequence;
        }

        await page.ReloadAsync();
        Assert.Equal(1, await page.Locator($"#seq-{head}").CountAsync());
        Assert.Contains($"of {head})", await page.InnerTextAsync("h2"), StringComparison.Ordinal);
        if (DateTimeOffset.UtcNow - viewed < TimeSpan.FromSeconds(14))
        {
            Assert.Equal(checkedAt, await page.InnerTextAsync("#verified-at"));
        }
    }

    [Fact]
    public async Task The_delivery_page_shows_the_numbers_the_domain_computes_from_the_runs()
    {
        await using var server = await ServerHarness.StartAsync();
        var plan = await server.PlanAsync("bob@example.com", "dev");
        // Each run must end in a later millisecond (the store's resolution) than the one before: with equal end times the
        // order, and so whether the failure counts as restored, would fall to the runs' random ids (it once did).
        async Task AfterAsync(string runId)
        {
            var ended = (await server.Host.Services.Store.Runs.GetAsync(runId, None))!.UpdatedAt;
            while (server.Host.Services.Time.GetUtcNow().ToUnixTimeMilliseconds() <= ended.ToUnixTimeMilliseconds())
            {
                await Task.Delay(2);
            }
        }

        var succeeded = await SeedRunAsync(server, plan.Record.PlanId, RunState.Validating, RunState.Applying, RunState.Succeeded);
        await AfterAsync(succeeded);
        var failed = await SeedRunAsync(server, plan.Record.PlanId, RunState.Validating, RunState.Applying, RunState.Failed);
        var details = (await server.Host.Services.Store.Runs.GetDetailsAsync(failed, None))! with { FailureClass = "partial_mutation" };
        await server.Host.Services.Store.Runs.SaveDetailsAsync(details, None);
        await AfterAsync(failed);
        var restored = await SeedRunAsync(server, plan.Record.PlanId, RunState.Validating, RunState.Applying, RunState.Succeeded);
        await SeedRunAsync(server, plan.Record.PlanId, RunState.Rejected); // refused: no deployment

        // Expected values from the domain over what the store and git hold, independently of the page.
        var committedAt = DateTimeOffset.Parse(server.Git.Git("show", "-s", "--format=%cI", plan.Record.Commit).Trim(), CultureInfo.InvariantCulture);
        async Task<DeliveryChange> ChangeAsync(string id, DeliveryOutcome outcome)
        {
            var run = (await server.Host.Services.Store.Runs.GetAsync(id, None))!;
            return new DeliveryChange(id, "site", "prod", null, outcome, run.UpdatedAt, committedAt);
        }

        var changes = new[] { await ChangeAsync(succeeded, DeliveryOutcome.Succeeded), await ChangeAsync(failed, DeliveryOutcome.Failed), await ChangeAsync(restored, DeliveryOutcome.Succeeded) };

        var page = await browser.NewPageAsync();
        await SignInAsync(page, server, "alice@example.com", "platform");
        await page.GotoAsync(server.BaseUrl + "/delivery?environment=prod&days=7");
        var now = server.Host.Services.Time.GetUtcNow();
        var expected = DeliveryMetrics.Compute(changes, now.AddDays(-7), now.AddMinutes(1));

        Assert.Equal(3, expected.Deployments);
        Assert.Equal(expected.DeploymentsPerDay, Value(await page.GetAttributeAsync("#deployment-frequency", "data-value")), 3);
        Assert.Equal(expected.ChangeFailureRate!.Value, Value(await page.GetAttributeAsync("#change-failure-rate", "data-value")), 6);
        Assert.Equal(expected.LeadTimeMedian!.Value.TotalSeconds, Value(await page.GetAttributeAsync("#lead-time", "data-value")), 0);
        Assert.Equal(expected.TimeToRestoreMedian!.Value.TotalSeconds, Value(await page.GetAttributeAsync("#time-to-restore", "data-value")), 3);
        Assert.Contains("(1 of 3)", await page.InnerTextAsync("#change-failure-rate"), StringComparison.Ordinal);
        Assert.Equal(8, await page.Locator("figure.chart").First.Locator("g[data-label]").CountAsync());
        await BrowserFixture.ScreenshotAsync(page, "delivery");

        // The service the page uses finds exactly these deployments.
        var found = await new DeliveryService(server.Host.Services).ChangesAsync("prod", now.AddDays(-7), None);
        Assert.Equal(changes.Select(c => c.RunId).Order(), found.Select(c => c.RunId).Order());
    }

    private static double Value(string? text) => double.Parse(text!, CultureInfo.InvariantCulture);
}
