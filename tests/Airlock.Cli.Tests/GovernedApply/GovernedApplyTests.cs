using System.Text.Json.Nodes;

namespace Airlock.Cli.Tests.GovernedApply;

/// <summary>
/// The governed apply end to end through the real CLI, with the command engine deploying real files
/// (examples/getting-started): happy paths, every refusal with nothing changed, re-plan materiality,
/// Ctrl+C, partial mutation, break-glass, freezes and custom rules — on SQLite and PostgreSQL, one class per
/// backend so that xunit runs the two side by side (most of these scenarios wait on real processes).
/// </summary>
public abstract class GovernedApplyTests
{
    public static TheoryData<string> Backends => new() { "sqlite", "postgresql" };

    /// <summary>The store every scenario of this class runs on.</summary>
    protected abstract string Backend { get; }

    [Fact]
    public async Task Dev_plan_and_apply_deploys_verifies_and_leaves_evidence_that_verifies()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);

        var planId = await ws.PlanAsync("dev");
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")), "planning must not change anything");
        var applied = await ws.ApplyJsonAsync(planId, "alice@example.com", 0);

        Assert.Equal("succeeded", (string)applied["state"]!);
        Assert.Equal(0, (long)applied["serial_before"]!);
        Assert.Equal(1, (long)applied["serial_after"]!);
        Assert.All(applied["verification"]!.AsArray(), c => Assert.True((bool)c!["passed"]!));
        Assert.Equal(ws.Read("stacks/site/content/index.html"), File.ReadAllText(ws.TargetFile("dev", "index.html")));

        var runs = JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]!.AsArray();
        Assert.Equal((string)applied["run_id"]!, (string)runs[0]!["run_id"]!);
        Assert.Equal(planId, (string)runs[0]!["plan_id"]!);

        var show = await ws.RunAsync("run", "show", (string)applied["run_id"]!);
        Assert.Equal(0, show.ExitCode);
        foreach (var state in new[] { "validating", "queued", "acquiring_locks", "preparing", "planning", "policy_check", "applying", "verifying", "publishing", "succeeded" })
        {
            Assert.Contains(state, show.Stdout, StringComparison.Ordinal);
        }

        var verify = await ws.RunAsync("evidence", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.DoesNotContain("not covered by a checkpoint", verify.Stdout + verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prod_needs_two_approvals_from_the_right_teams_and_refuses_until_then()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var planId = await ws.PlanAsync("prod");

        var early = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);
        Assert.Equal("rejected", (string)early["state"]!);
        Assert.Contains("needs 2 approval(s), has 0", (string)early["statement"]!, StringComparison.Ordinal);

        var self = await ws.RunAsync("approve", planId, "--as", "alice@example.com");
        Assert.Equal(3, self.ExitCode);
        Assert.Contains("separation of duties", self.Stderr, StringComparison.Ordinal);

        var outsider = await ws.RunAsync("approve", planId, "--as", "dave@example.com");
        Assert.Equal(3, outsider.ExitCode);
        Assert.Contains("not in a team that may approve", outsider.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await ws.RunAsync("approve", planId, "--as", "bob@example.com")).ExitCode);
        var oneOfTwo = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);
        Assert.Contains("no distinct approver from team 'security'", (string)oneOfTwo["statement"]!, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("prod", "index.html")));
        Assert.Equal(0, ws.Serial("prod"));

        Assert.Equal(0, (await ws.RunAsync("approve", planId, "--as", "carol@example.com")).ExitCode);
        var approvals = await ws.RunAsync("approvals", planId, "--json");
        Assert.Equal(0, approvals.ExitCode);
        Assert.True((bool)JsonNode.Parse(approvals.Stdout)!["satisfied"]!);

        var applied = await ws.ApplyJsonAsync(planId, "alice@example.com", 0);
        Assert.Equal(1, ws.Serial("prod"));
        var evidence = await ws.RunAsync("evidence", "show", (string)applied["run_id"]!);
        Assert.Contains("bob@example.com", evidence.Stdout, StringComparison.Ordinal);
        Assert.Contains("carol@example.com", evidence.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await ws.RunAsync("evidence", "verify")).ExitCode);
    }

    [Fact]
    public async Task An_apply_from_a_different_commit_is_refused_and_changes_nothing()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var planId = await ws.PlanAsync("dev");
        ws.Write("stacks/site/content/index.html", "<h1>changed after the plan</h1>\n");
        ws.Commit("a later change");

        var refused = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);

        Assert.Contains("was made at", (string)refused["statement"]!, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")));
    }

    [Fact]
    public async Task An_expired_plan_is_refused_and_changes_nothing()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        ws.Write("airlock.yaml", ws.Read("airlock.yaml").Replace("plan: { mode: replan }", "plan: { mode: replan, max_age: 2s }", StringComparison.Ordinal));
        ws.Commit("short-lived plans");
        var planId = await ws.PlanAsync("dev");
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var refused = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);

        Assert.Contains("expired", (string)refused["statement"]!, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")));
        Assert.Equal(0, ws.Serial("dev"));
    }

    [Fact]
    public async Task A_replan_that_adds_a_delete_is_a_material_delta_and_is_refused()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        await ws.ApplyJsonAsync(await ws.PlanAsync("dev"), "alice@example.com", 0);
        ws.Write("stacks/site/content/index.html", "<h1>version 2</h1>\n");
        ws.Commit("version 2");
        var planId = await ws.PlanAsync("dev");
        var indexBefore = File.ReadAllText(ws.TargetFile("dev", "index.html"));

        // Someone puts a file into the target by hand: the fresh plan now also deletes it.
        File.WriteAllText(ws.TargetFile("dev", "extra.txt"), "made by hand\n");
        var refused = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);

        Assert.Contains("differs materially", (string)refused["statement"]!, StringComparison.Ordinal);
        Assert.Contains("local_file.extra_txt", (string)refused["statement"]!, StringComparison.Ordinal);
        Assert.Equal(indexBefore, File.ReadAllText(ws.TargetFile("dev", "index.html")));
        Assert.True(File.Exists(ws.TargetFile("dev", "extra.txt")));
        Assert.Equal(1, ws.Serial("dev"));
    }

    [Fact]
    public async Task A_replan_identical_in_substance_applies_the_approved_change()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        await ws.ApplyJsonAsync(await ws.PlanAsync("dev"), "alice@example.com", 0);
        ws.Write("stacks/site/content/index.html", "<h1>version 2</h1>\n");
        ws.Commit("version 2");
        var planId = await ws.PlanAsync("dev");

        var result = await ws.RunAsync("apply", planId, "--as", "alice@example.com");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("identical in substance", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("<h1>version 2</h1>\n", File.ReadAllText(ws.TargetFile("dev", "index.html")));
        Assert.Equal(2, ws.Serial("dev"));
    }

    [Fact]
    public async Task A_partial_mutation_blocks_the_stack_until_a_fresh_plan_is_applied()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var planId = await ws.PlanAsync("dev");

        ws.SetVariable("SITE_FAIL_AFTER", "1");
        var failed = await ws.ApplyJsonAsync(planId, "alice@example.com", 1);
        Assert.Equal("failed", (string)failed["state"]!);
        Assert.Equal("partial_mutation", (string)failed["failure_class"]!);
        Assert.Contains("1 created", (string)failed["statement"]!, StringComparison.Ordinal);
        Assert.Equal(1, ws.Serial("dev"));

        ws.SetVariable("SITE_FAIL_AFTER", null);
        var again = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);
        Assert.Contains("is blocked", (string)again["statement"]!, StringComparison.Ordinal);
        Assert.Contains((string)failed["run_id"]!, (string)again["statement"]!, StringComparison.Ordinal);
        Assert.Equal(1, ws.Serial("dev"));

        var fresh = await ws.PlanAsync("dev");
        var applied = await ws.ApplyJsonAsync(fresh, "alice@example.com", 0);
        Assert.Equal("succeeded", (string)applied["state"]!);
        Assert.True(File.Exists(ws.TargetFile("dev", "robots.txt")));
    }

    [Fact]
    public async Task Ctrl_C_during_the_apply_stops_the_engine_gracefully_and_records_the_cancellation()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var planId = await ws.PlanAsync("dev");
        ws.SetVariable("SITE_APPLY_DELAY", "60");
        using var cli = ws.Start("apply", planId, "--as", "alice@example.com");
        await cli.WaitForLineAsync("site: waiting");
        await cli.InterruptAsync();
        var result = await cli.WaitForExitAsync();
        var text = result.ToString();

        Assert.True(result.ExitCode == 130, text);
        Assert.Contains("cancelled", text, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")), text);
        Assert.Equal(0, ws.Serial("dev"));
        var runs = JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]!.AsArray();
        Assert.Equal("cancelled", (string)runs[0]!["state"]!);
        var locks = await ws.RunAsync("locks", "--json");
        Assert.DoesNotContain("run-", locks.Stdout, StringComparison.Ordinal);

        // Nothing changed, so the stack is not blocked: the same plan still applies.
        ws.SetVariable("SITE_APPLY_DELAY", null);
        await ws.ApplyJsonAsync(planId, "alice@example.com", 0);
    }

    [Fact]
    public async Task A_person_the_cancellation_policy_allows_can_stop_someone_elses_running_apply()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        ws.Write("airlock.yaml", ws.Read("airlock.yaml").Replace("    plan: { mode: replan }", "    plan: { mode: replan }\n    apply: { cancellation: security }", StringComparison.Ordinal));
        ws.Commit("only security may cancel dev applies");
        var planId = await ws.PlanAsync("dev");
        ws.SetVariable("SITE_APPLY_DELAY", "60");
        using var cli = ws.Start("apply", planId, "--as", "alice@example.com");
        await cli.WaitForLineAsync("site: waiting");
        var runId = (string)JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]![0]!["run_id"]!;

        var outsider = await ws.RunAsync("cancel", runId, "--as", "dave@example.com");
        Assert.Equal(3, outsider.ExitCode);
        Assert.Contains("may not cancel", outsider.Stderr, StringComparison.Ordinal);
        var allowed = await ws.RunAsync("cancel", runId, "--as", "carol@example.com", "--reason", "wrong change window");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());

        var result = await cli.WaitForExitAsync();
        var text = result.ToString();
        Assert.True(result.ExitCode == 130, text);
        var run = JsonNode.Parse((await ws.RunAsync("run", "show", runId, "--json")).Stdout)!;
        Assert.Equal("cancelled", (string)run["state"]!);
        Assert.Contains("carol@example.com (wrong change window)", (string)run["statement"]!, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")), text);
        var late = await ws.RunAsync("cancel", runId, "--as", "carol@example.com");
        Assert.Equal(3, late.ExitCode);
    }

    [Fact]
    public async Task A_second_apply_to_the_same_stack_waits_in_its_queue_until_the_first_has_finished()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var first = await ws.PlanAsync("dev");
        var second = await ws.PlanAsync("dev");
        // Long enough for the second CLI to start and queue even on a loaded machine.
        ws.SetVariable("SITE_APPLY_DELAY", "10");
        using var cli = ws.Start("apply", first, "--as", "alice@example.com");
        await cli.WaitForLineAsync("site: waiting");
        ws.SetVariable("SITE_APPLY_DELAY", null);

        var later = await ws.RunAsync("apply", second, "--as", "bob@example.com");
        var earlier = await cli.WaitForExitAsync();

        Assert.True(earlier.ExitCode == 0, earlier.ToString());
        Assert.Contains("waiting in queue dev/site behind run-", later.Stdout, StringComparison.Ordinal);
        Assert.True(later.ExitCode == 0, later.ToString());
        var runs = JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]!.AsArray();
        Assert.All(runs, r => Assert.Equal("succeeded", (string)r!["state"]!));
        Assert.Equal(1, ws.Serial("dev")); // the second apply found nothing left to change
    }

    [Fact]
    public async Task An_approved_plan_is_applied_at_most_once_even_when_two_applies_of_it_race()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var holder = await ws.PlanAsync("dev");
        var planId = await ws.PlanAsync("dev");
        // A slow apply of another plan holds the queue, so both applies of planId pass validation and queue behind
        // it; the first of them applies, the second finds the plan spent once it holds the lock.
        ws.SetVariable("SITE_APPLY_DELAY", "10");
        using var slow = ws.Start("apply", holder, "--as", "alice@example.com");
        await slow.WaitForLineAsync("site: waiting");
        ws.SetVariable("SITE_APPLY_DELAY", null);
        using var cli = ws.Start("apply", planId, "--as", "alice@example.com");
        await cli.WaitForLineAsync("waiting in queue dev/site behind run-");

        var racing = await ws.ApplyJsonAsync(planId, "bob@example.com", 3);
        var first = await cli.WaitForExitAsync();

        Assert.True((await slow.WaitForExitAsync()).ExitCode == 0);
        Assert.True(first.ExitCode == 0, first.ToString());
        var runs = JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]!.AsArray();
        var firstRun = runs.Single(r => (string)r!["state"]! == "succeeded" && (string)r["plan_id"]! == planId)!;
        // Refused after taking locks: the run ends failed before any mutation (exit 3, as every refusal).
        Assert.Equal(("failed", "pre_mutation"), ((string?)racing["state"], (string?)racing["failure_class"]));
        Assert.StartsWith($"plan {planId} was already applied by run {(string)firstRun["run_id"]!} (succeeded at ", (string)racing["statement"]!, StringComparison.Ordinal);
        Assert.Contains("an approval covers one apply: plan again", (string)racing["statement"]!, StringComparison.Ordinal);
        var racingEvents = (await ws.RunAsync("run", "show", (string)racing["run_id"]!)).Stdout;
        Assert.Contains("acquiring_locks", racingEvents, StringComparison.Ordinal);
        Assert.DoesNotContain("preparing", racingEvents, StringComparison.Ordinal);

        // Nothing left to decide on it either.
        var lateApproval = await ws.RunAsync("approve", planId, "--as", "bob@example.com");
        Assert.Equal(3, lateApproval.ExitCode);
        Assert.Contains($"plan {planId} was already applied by run {(string)firstRun["run_id"]!}", lateApproval.Stderr, StringComparison.Ordinal);

        // Later, the same plan again: refused at validation, before queueing; a fresh plan applies.
        var again = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);
        Assert.Contains($"was already applied by run {(string)firstRun["run_id"]!}", (string)again["statement"]!, StringComparison.Ordinal);
        Assert.DoesNotContain("queued", (await ws.RunAsync("run", "show", (string)again["run_id"]!)).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await ws.RunAsync("apply", await ws.PlanAsync("dev"), "--as", "alice@example.com")).ExitCode);
        Assert.Equal(0, (await ws.RunAsync("evidence", "verify")).ExitCode);
    }

    [Fact]
    public async Task An_incident_freeze_refuses_applies_and_break_glass_needs_an_incident_and_a_grant()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var planId = await ws.PlanAsync("dev");
        Assert.Equal(0, (await ws.RunAsync("freeze", "start", "--env", "dev", "--reason", "SEV1 payments outage", "--as", "alice@example.com")).ExitCode);
        var twice = await ws.RunAsync("freeze", "start", "--env", "dev", "--reason", "again", "--as", "bob@example.com");
        Assert.Equal(3, twice.ExitCode);

        var frozen = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);
        Assert.Contains("incident freeze on dev: SEV1 payments outage", (string)frozen["statement"]!, StringComparison.Ordinal);

        var noIncident = await ws.ApplyJsonAsync(planId, "alice@example.com", 3, "--break-glass", "--reason", "hotfix");
        Assert.Contains("needs an incident id", (string)noIncident["statement"]!, StringComparison.Ordinal);

        var noGrant = await ws.ApplyJsonAsync(planId, "alice@example.com", 3, "--break-glass", "--incident", "INC-42", "--reason", "hotfix");
        Assert.Contains("no break-glass grant for incident INC-42", (string)noGrant["statement"]!, StringComparison.Ordinal);

        var wrongTeam = await ws.RunAsync("approve", planId, "--as", "bob@example.com", "--break-glass", "--incident", "INC-42", "--reason", "hotfix");
        Assert.Equal(3, wrongTeam.ExitCode);
        Assert.Contains("not in the 'break-glass' team", wrongTeam.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")));

        Assert.Equal(0, (await ws.RunAsync("approve", planId, "--as", "erin@example.com", "--break-glass", "--incident", "INC-42", "--reason", "restore payments")).ExitCode);
        var applied = await ws.ApplyJsonAsync(planId, "alice@example.com", 0, "--break-glass", "--incident", "INC-42", "--reason", "hotfix for INC-42");
        Assert.Contains(applied["policy"]!["rules"]!.AsArray(), r => (string)r!["id"]! == "break-glass" && (string)r["result"]! == "warn");
        Assert.True(File.Exists(ws.TargetFile("dev", "index.html")));

        var evidence = JsonNode.Parse((await ws.RunAsync("evidence", "show", (string)applied["run_id"]!, "--json")).Stdout)!.ToJsonString();
        Assert.Contains("break-glass", evidence, StringComparison.Ordinal);
        Assert.Contains("INC-42", evidence, StringComparison.Ordinal);

        Assert.Equal(0, (await ws.RunAsync("freeze", "stop", "--env", "dev", "--as", "alice@example.com")).ExitCode);
        var list = await ws.RunAsync("freeze", "list", "--json");
        Assert.False((bool)JsonNode.Parse(list.Stdout)!["freezes"]![0]!["active"]!);
    }

    [Fact]
    public async Task A_closed_change_window_refuses_the_apply()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var closedDay = DateTime.UtcNow.AddDays(3).DayOfWeek.ToString()[..3].ToLowerInvariant();
        ws.Write("airlock.yaml", ws.Read("airlock.yaml").Replace(
            "    plan: { mode: replan }",
            $"    plan: {{ mode: replan }}\n    windows: {{ timezone: UTC, allow: [ {{ days: [{closedDay}], from: \"00:00\", to: \"24:00\" }} ] }}",
            StringComparison.Ordinal));
        ws.Commit("dev only on one day");
        var planId = await ws.PlanAsync("dev");

        var refused = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);

        Assert.Contains("change-window", (string)refused["statement"]!, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")));
    }

    [Fact]
    public async Task A_custom_rule_that_denies_refuses_the_plan_and_the_apply_and_a_looping_rule_is_stopped()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        ws.Write("airlock.yaml", ws.Read("airlock.yaml") + "\npolicies:\n  custom: policies/\n");
        ws.Write("policies/no-robots.js", """
            function evaluate(input) {
              var robots = input.plan.resources.filter(function (r) { return r.address === 'local_file.robots_txt'; });
              return robots.length > 0 ? { result: 'fail', message: 'robots.txt needs SEO review' } : 'pass';
            }
            """);
        ws.Commit("a custom rule");

        var plan = await ws.RunAsync("plan", "site", "--env", "dev", "--as", "alice@example.com", "--json");
        Assert.Equal(3, plan.ExitCode);
        var planJson = JsonNode.Parse(plan.Stdout)!;
        Assert.Equal("deny", (string)planJson["policy"]!["decision"]!);
        Assert.Contains(planJson["policy"]!["rules"]!.AsArray(), r => (string)r!["id"]! == "no-robots" && (string)r["message"]! == "robots.txt needs SEO review");
        var refused = await ws.ApplyJsonAsync((string)planJson["plan_id"]!, "alice@example.com", 3);
        Assert.Contains("[no-robots] robots.txt needs SEO review", (string)refused["statement"]!, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.TargetFile("dev", "index.html")));

        File.Delete(Path.Combine(ws.Root, "policies", "no-robots.js"));
        ws.Write("policies/forever.js", "function evaluate(input) { while (true) { } }\n");
        ws.Commit("a rule that never returns");
        var looping = await ws.RunAsync("plan", "site", "--env", "dev", "--as", "alice@example.com", "--json");
        Assert.Equal(3, looping.ExitCode);
        var rule = JsonNode.Parse(looping.Stdout)!["policy"]!["rules"]!.AsArray().Single(r => (string)r!["id"]! == "forever")!;
        Assert.Equal("fail", (string)rule["result"]!);
        Assert.Contains("stopped by the sandbox", (string)rule["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_execution_identity_is_resolved_at_run_time_injected_redacted_and_named_in_evidence()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        const string Secret = "s3cr3t-deploy-token-4711";
        ws.Write("airlock.yaml", ws.Read("airlock.yaml").Replace("    owners: [platform]", "    owners: [platform]\n    identity: deploy-{env}", StringComparison.Ordinal));
        // The scripts prove they got the credential by printing it; Airlock must mask it everywhere.
        foreach (var script in new[] { "plan.sh", "apply.sh" })
        {
            ws.Write($"stacks/site/{script}", ws.Read($"stacks/site/{script}").Replace(". ./common.sh", ". ./common.sh\necho \"deploying with token $SITE_TOKEN\"", StringComparison.Ordinal));
        }

        ws.Commit("the site deploys with an identity");

        var missing = await ws.RunAsync("plan", "site", "--env", "dev", "--as", "alice@example.com");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("execution identity 'deploy-dev' is not available", missing.Stderr, StringComparison.Ordinal);
        Assert.Contains("AIRLOCK_IDENTITY_DEPLOY_DEV", missing.Stderr, StringComparison.Ordinal);

        var credentials = Path.Combine(Path.GetTempPath(), "airlock-identity-" + Guid.NewGuid().ToString("N") + ".env");
        try
        {
            File.WriteAllText(credentials, $"# deploy credentials for dev\nSITE_TOKEN={Secret}\n");
            ws.SetVariable("AIRLOCK_IDENTITY_DEPLOY_DEV", credentials);
            var plan = await ws.RunAsync("plan", "site", "--env", "dev", "--as", "alice@example.com", "--json");
            Assert.True(plan.ExitCode == 0, plan.ToString());
            Assert.Contains("deploying with token [REDACTED]", plan.Stderr, StringComparison.Ordinal);
            var planId = (string)JsonNode.Parse(plan.Stdout)!["plan_id"]!;

            var apply = await ws.RunAsync("apply", planId, "--as", "alice@example.com");
            Assert.True(apply.ExitCode == 0, apply.ToString());
            Assert.Contains("deploying with token [REDACTED]", apply.Stdout, StringComparison.Ordinal);
            var runId = (string)JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]![0]!["run_id"]!;
            var evidence = await ws.RunAsync("evidence", "show", runId, "--json");
            Assert.Contains("deploy-dev", evidence.Stdout, StringComparison.Ordinal);
            Assert.Contains("SITE_TOKEN", evidence.Stdout, StringComparison.Ordinal);

            foreach (var output in new[] { missing, plan, apply, evidence })
            {
                Assert.DoesNotContain(Secret, output.Stdout + output.Stderr, StringComparison.Ordinal);
            }

            foreach (var file in Directory.EnumerateFiles(Path.Combine(ws.Root, ".airlock"), "*", SearchOption.AllDirectories))
            {
                Assert.DoesNotContain(Secret, File.ReadAllText(file), StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(credentials);
        }
    }

    [Fact]
    public async Task A_force_unlock_during_the_apply_leaves_the_run_for_reconciliation_and_blocks_the_stack()
    {
        using var ws = await GovernedWorkspace.CreateAsync(Backend);
        var planId = await ws.PlanAsync("dev");
        ws.SetVariable("SITE_APPLY_DELAY", "8");
        using var cli = ws.Start("apply", planId, "--as", "alice@example.com");
        await cli.WaitForLineAsync("site: waiting");
        ws.SetVariable("SITE_APPLY_DELAY", null);
        ws.SetVariable("AIRLOCK_LOCK_ADMINS", "oncall@example.com");

        var unlock = await ws.RunAsync("unlock", "stack:getting-started/dev/default/default/site", "--reason", "looked stuck", "--as", "oncall@example.com");
        Assert.True(unlock.ExitCode == 0, unlock.ToString());
        var result = await cli.WaitForExitAsync();
        var text = result.ToString();

        // The apply itself went on (nothing kills a tool because a lock row vanished), but this
        // process no longer owns the run: it says so, and the run stays for a person to reconcile.
        Assert.True(result.ExitCode == 1, text);
        Assert.Contains("lost ownership of the run", text, StringComparison.Ordinal);
        var run = JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]![0]!;
        Assert.Equal("needs_reconciliation", (string)run["state"]!);
        var again = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);
        Assert.Contains("needs reconciliation", (string)again["statement"]!, StringComparison.Ordinal);
        Assert.Equal(0, (await ws.RunAsync("evidence", "verify")).ExitCode);
    }
}

/// <summary>The governed apply on SQLite.</summary>
public sealed class GovernedApplyOnSqliteTests : GovernedApplyTests
{
    protected override string Backend => "sqlite";
}

/// <summary>The governed apply on PostgreSQL.</summary>
public sealed class GovernedApplyOnPostgresTests : GovernedApplyTests
{
    protected override string Backend => "postgresql";
}

/// <summary>What the governed apply refuses before any work: bad input, and a PostgreSQL store without a plan key.</summary>
public sealed class GovernedApplyRefusalTests
{
    [Fact]
    public async Task Bad_input_gets_one_line_and_exit_code_2()
    {
        using var ws = await GovernedWorkspace.CreateAsync("sqlite");

        var unknownStack = await ws.RunAsync("plan", "nope", "--env", "dev", "--as", "alice@example.com");
        var unknownEnv = await ws.RunAsync("plan", "site", "--env", "qa", "--as", "alice@example.com");
        var unknownPlan = await ws.RunAsync("apply", "plan-doesnotexist", "--as", "alice@example.com");

        Assert.Equal(2, unknownStack.ExitCode);
        Assert.Contains("unknown stack 'nope' (known: site)", unknownStack.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, unknownEnv.ExitCode);
        Assert.Contains("unknown environment 'qa'", unknownEnv.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, unknownPlan.ExitCode);
        Assert.Contains("unknown plan 'plan-doesnotexist'", unknownPlan.Stderr, StringComparison.Ordinal);
        foreach (var result in new[] { unknownStack, unknownEnv, unknownPlan })
        {
            Assert.Single(result.Stderr.Trim().Split('\n'));
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Plan_on_postgresql_without_a_plan_key_refuses_in_one_line_before_running_the_engine()
    {
        using var ws = await GovernedWorkspace.CreateAsync("postgresql");
        ws.SetVariable("AIRLOCK_PLAN_KEY", null);

        var plan = await ws.RunAsync("plan", "site", "--env", "dev", "--as", "alice@example.com");

        Assert.True(plan.ExitCode == 2, plan.ToString());
        Assert.Equal("airlock: no plan key configured: set AIRLOCK_PLAN_KEY (base64 of 32 bytes) or a plan key file", plan.Stderr.Trim());
        Assert.DoesNotContain("   at ", plan.Stderr, StringComparison.Ordinal);
        // The engine never ran: no plan work directory was made.
        Assert.False(Directory.Exists(Path.Combine(ws.Root, ".airlock", "work")), "the engine must not run without a key to store its plan");
    }

    [Fact]
    public async Task Apply_on_postgresql_without_the_plan_key_refuses_in_one_line_before_a_run_starts()
    {
        using var ws = await GovernedWorkspace.CreateAsync("postgresql");
        var planId = await ws.PlanAsync("dev");
        ws.SetVariable("AIRLOCK_PLAN_KEY", null);

        var apply = await ws.RunAsync("apply", planId, "--as", "alice@example.com");

        Assert.True(apply.ExitCode == 2, apply.ToString());
        Assert.Equal("airlock: no plan key configured: set AIRLOCK_PLAN_KEY (base64 of 32 bytes) or a plan key file", apply.Stderr.Trim());
        Assert.Equal(0, ws.Serial("dev"));
        var runs = JsonNode.Parse((await ws.RunAsync("runs", "--json")).Stdout)!["runs"]!.AsArray();
        Assert.Empty(runs);
    }
}
