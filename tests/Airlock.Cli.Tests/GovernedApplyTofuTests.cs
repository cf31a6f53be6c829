using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Testing;

namespace Airlock.Cli.Tests;

/// <summary>
/// End-to-end: the real `airlock` CLI drives the OpenTofu adapter against the tofu TEST DOUBLE, which
/// replays real captured plan JSON and keeps a state file whose serial advances on apply. Each refusal
/// is checked from the outside: the exit code, the one-line reason, no `apply` reaching the tool, and
/// an unchanged state serial.
/// </summary>
public sealed class GovernedApplyTofuTests
{
    private const string Alice = "alice@example.com";
    private const string Bob = "bob@example.com";
    private const string Carol = "carol@example.com";

    private static readonly string StateFixture = RepoPaths.Fixture("state", "tfjson-110-sensitive-attributes.tfstate"); // serial 8
    private static readonly string CreatePlan = RepoPaths.Fixture("tofu-show-json", "tofu-basic-create.json"); // 3 creates
    private static readonly string UpdatePlan = RepoPaths.Fixture("realistic-plans", "tfcompliance-aws-update-noop-create.json"); // update, no-op, create
    private static readonly string DatabaseState = RepoPaths.Fixture("state", "driftctl-aws-db-instance.tfstate"); // serial 125, one aws_db_instance
    private static readonly string DatabaseCreatePlan = RepoPaths.Fixture("realistic-plans", "tfcompliance-aws-db-instance.json"); // creates aws_db_instance.default

    private const string SavedConfig = """
        environments:
          dev:
            plan: { mode: saved }
        stacks:
          network: { path: stacks/network }

        """;

    private const string ReplanConfig = """
        teams:
          platform: [bob@example.com]
        environments:
          stage:
            plan: { mode: replan }
            approvals: { required: 1, roles: [platform] }
        stacks:
          network: { path: stacks/network, owners: [platform] }

        """;

    private const string GuardedConfig = """
        teams:
          platform: [bob@example.com, carol@example.com]
        resource_classes:
          database: [aws_db_instance]
        environments:
          prod:
            plan: { mode: saved }
            approvals: { required: 1, roles: [platform] }
            destroy: { protected_classes: [database] }
        stacks:
          network: { path: stacks/network, owners: [platform] }

        """;

    public static TheoryData<string> Stores => new() { "sqlite", "postgresql" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Saved_plan_mode_applies_the_saved_plan_file_and_leaves_verifiable_evidence(string store)
    {
        using var ws = await TofuWorkspace.CreateAsync(store, SavedConfig, StateFixture, PlanResponses(CreatePlan));
        var plan = await ws.PlanAsync("dev", Alice);
        var planId = PlanId(plan);
        Assert.Equal("saved", plan.GetProperty("mode").GetString());
        Assert.Equal(8, plan.GetProperty("state_serial").GetInt64());
        Assert.Equal("opentofu 1.8.2", plan.GetProperty("tool_version").GetString());

        var apply = await ws.RunAsync("apply", planId, "--as", Alice, "--json");

        Assert.True(apply.ExitCode == 0, apply.ToString());
        using var outcome = JsonDocument.Parse(apply.Stdout);
        var root = outcome.RootElement;
        Assert.Equal("succeeded", root.GetProperty("state").GetString());
        Assert.Equal(8, root.GetProperty("serial_before").GetInt64());
        Assert.Equal(9, root.GetProperty("serial_after").GetInt64());
        Assert.Equal(9, ws.Serial());

        // The saved plan file made at plan time, unpacked from the encrypted store, is what the tool applied:
        // the double resolves it to the planned fixture (3 creates) and plans only once.
        var planOut = ws.Calls().Single(c => c[0] == "plan");
        var savedName = Path.GetFileName(planOut.Single(a => a.StartsWith("-out=", StringComparison.Ordinal))["-out=".Length..]);
        var applied = Assert.Single(ws.ApplyCalls());
        Assert.Equal(savedName, Path.GetFileName(applied[^1]));
        Assert.StartsWith(Path.Combine(ws.Root, ".airlock", "work", "run-"), applied[^1], StringComparison.Ordinal);
        Assert.Contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed.", apply.Stderr, StringComparison.Ordinal);

        // Airlock's own secrets (plan key, database URL) never reach the tool; only the target region Airlock
        // sets for every engine and the wrapper's scenario variable are there.
        Assert.All(ws.CallEnvironments(), env =>
            Assert.Equal(["AIRLOCK_REGION", "AIRLOCK_TEST_DOUBLE_SCENARIO"], env.Select(p => p.Key).Where(k => k.StartsWith("AIRLOCK_", StringComparison.Ordinal))));

        var runs = await ws.RunAsync("runs", "--json");
        Assert.True(runs.ExitCode == 0, runs.ToString());
        using var runsJson = JsonDocument.Parse(runs.Stdout);
        var run = Assert.Single(runsJson.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal(root.GetProperty("run_id").GetString(), run.GetProperty("run_id").GetString());
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(planId, run.GetProperty("plan_id").GetString());
        Assert.Equal("saved", run.GetProperty("detail").GetProperty("mode").GetString());
        Assert.Equal(
            ["requested", "validating", "queued", "acquiring_locks", "preparing", "verifying_saved_plan", "policy_check", "applying", "verifying", "publishing", "succeeded"],
            await TransitionsAsync(ws, root.GetProperty("run_id").GetString()!));

        var verify = await ws.RunAsync("evidence", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public async Task Saved_plan_mode_refuses_when_the_state_serial_moved_since_the_plan()
    {
        using var ws = await TofuWorkspace.CreateAsync("sqlite", SavedConfig, StateFixture, PlanResponses(CreatePlan));
        var planId = PlanId(await ws.PlanAsync("dev", Alice));
        ws.SetSerial(9); // someone else applied in the meantime

        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 3, apply.ToString());
        Assert.Contains("changed since the plan (serial 8 → 9): plan again", Verdict(apply), StringComparison.Ordinal);
        AssertNothingApplied(ws, apply, serial: 9);

        // The advice works: the refused run released its locks and queue slot, and a fresh plan applies.
        var fresh = PlanId(await ws.PlanAsync("dev", Alice));
        var retry = await ws.RunAsync("apply", fresh, "--as", Alice);
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Single(ws.ApplyCalls());
        Assert.Equal(10, ws.Serial());
    }

    [Fact]
    public async Task Saved_plan_mode_refuses_a_state_with_another_lineage_even_at_the_same_serial()
    {
        using var ws = await TofuWorkspace.CreateAsync("sqlite", SavedConfig, StateFixture, PlanResponses(CreatePlan));
        var planId = PlanId(await ws.PlanAsync("dev", Alice));
        ws.SetLineage("0b5c2a4e-1d7f-4c3e-9a61-7f2d8e9b0c13"); // same serial 8, but not the state the plan was made against

        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 3, apply.ToString());
        Assert.Contains("is a different state since the plan (lineage fa0debfe-854c-b885-a355-bbb09fa86dde → 0b5c2a4e-1d7f-4c3e-9a61-7f2d8e9b0c13): plan again", Verdict(apply), StringComparison.Ordinal);
        AssertNothingApplied(ws, apply, serial: 8);
    }

    [Fact]
    public async Task Replan_mode_applies_when_the_fresh_plan_differs_only_in_a_tag_and_says_so()
    {
        using var ws = await TofuWorkspace.CreateAsync("sqlite", ReplanConfig, StateFixture, []);
        var tagChanged = ws.WritePlanJson("tag-changed.json", WithExtraTag(LoadPlan(UpdatePlan), "aws_instance.changed", "Owner", "platform"));
        SetResponses(ws, PlanResponses(UpdatePlan, tagChanged));
        var planId = PlanId(await ws.PlanAsync("stage", Alice));
        await ApproveAsync(ws, planId, Bob);

        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.StartsWith("✔ applied: network in stage: 1 added, 1 changed", Verdict(apply), StringComparison.Ordinal);
        Assert.Contains("the fresh plan differs only immaterially: aws_instance.changed: only tags/description differ (tags.Owner)", apply.Stdout, StringComparison.Ordinal);
        // The fresh plan's file is the one applied, not the approved one.
        Assert.Equal(2, ws.Calls().Count(c => c[0] == "plan"));
        var runId = RunId(apply);
        Assert.Equal(
            ["requested", "validating", "queued", "acquiring_locks", "preparing", "planning", "policy_check", "applying", "verifying", "publishing", "succeeded"],
            await TransitionsAsync(ws, runId));
        var applied = Assert.Single(ws.ApplyCalls());
        Assert.Contains(Path.DirectorySeparatorChar + "replan" + Path.DirectorySeparatorChar, applied[^1], StringComparison.Ordinal);
        Assert.Equal(9, ws.Serial());
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Replan_mode_refuses_when_the_fresh_plan_adds_a_delete(string store)
    {
        using var ws = await TofuWorkspace.CreateAsync(store, ReplanConfig, StateFixture, []);
        var withDelete = ws.WritePlanJson("with-delete.json", WithAddedDelete(LoadPlan(UpdatePlan), "aws_instance.legacy", copyBeforeFrom: "aws_instance.unchanged"));
        SetResponses(ws, PlanResponses(UpdatePlan, withDelete));
        var planId = PlanId(await ws.PlanAsync("stage", Alice));
        await ApproveAsync(ws, planId, Bob);

        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 3, apply.ToString());
        var verdict = Verdict(apply);
        Assert.Contains("the fresh plan differs materially from the approved one", verdict, StringComparison.Ordinal);
        Assert.Contains("aws_instance.legacy is now delete (approved: absent)", verdict, StringComparison.Ordinal);
        Assert.Equal(2, ws.Calls().Count(c => c[0] == "plan"));
        AssertNothingApplied(ws, apply, serial: 8);

        var runs = await ws.RunAsync("runs", "--json");
        using var runsJson = JsonDocument.Parse(runs.Stdout);
        var run = Assert.Single(runsJson.RootElement.GetProperty("runs").EnumerateArray());
        // A material delta needs a new approval: the run is rejected (nothing touched), not failed.
        Assert.Equal("rejected", run.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("failure_class").ValueKind);
        Assert.Contains("differs materially", run.GetProperty("statement").GetString(), StringComparison.Ordinal);
        var verify = await ws.RunAsync("evidence", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public async Task Destroy_guard_refuses_a_database_delete_until_an_approval_names_it()
    {
        using var ws = await TofuWorkspace.CreateAsync("sqlite", GuardedConfig, DatabaseState, []);
        var deletePlan = ws.WritePlanJson("db-delete.json", AsDelete(LoadPlan(DatabaseCreatePlan), "aws_db_instance.default"));
        SetResponses(ws, PlanResponses(deletePlan));
        var plan = await ws.PlanAsync("prod", Alice);
        var planId = PlanId(plan);
        Assert.Equal(["aws_db_instance.default"], plan.GetProperty("guarded_destroys").EnumerateArray().Select(a => a.GetString()));

        await ApproveAsync(ws, planId, Bob);
        var standing = await ApprovalsAsync(ws, planId);
        Assert.False(standing.GetProperty("satisfied").GetBoolean());
        Assert.Contains(standing.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("destroys protected aws_db_instance.default:", StringComparison.Ordinal));
        var refused = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(refused.ExitCode == 3, refused.ToString());
        var verdict = Verdict(refused);
        Assert.StartsWith("✖ refused:", verdict, StringComparison.Ordinal);
        Assert.Contains("[destroy-guard] destroys aws_db_instance.default without an approval naming it (--destroy)", verdict, StringComparison.Ordinal);
        AssertNothingApplied(ws, refused, serial: 125);

        await ApproveAsync(ws, planId, Carol, "--destroy", "aws_db_instance.default");
        Assert.True((await ApprovalsAsync(ws, planId)).GetProperty("satisfied").GetBoolean());
        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.StartsWith("✔ applied: network in prod: 0 added, 0 changed, 0 replaced, 1 destroyed", Verdict(apply), StringComparison.Ordinal);
        Assert.Contains("Apply complete! Resources: 0 added, 0 changed, 1 destroyed.", apply.Stdout, StringComparison.Ordinal);
        Assert.Single(ws.ApplyCalls());
        Assert.Equal(126, ws.Serial());
        var verify = await ws.RunAsync("evidence", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());

        // The plan and the state hold the database password: never printed, and the stored plan is encrypted at rest.
        const string Password = "foobarbaz";
        Assert.Contains(Password, File.ReadAllText(deletePlan), StringComparison.Ordinal);
        Assert.All(new[] { refused, apply, verify }, r => Assert.DoesNotContain(Password, r.Stdout + r.Stderr, StringComparison.Ordinal));
        Assert.All(Directory.EnumerateFiles(Path.Combine(ws.Root, ".airlock"), "*", SearchOption.AllDirectories), f =>
            Assert.DoesNotContain(Password, System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f)), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Apply_refuses_when_HEAD_moved_after_the_plan()
    {
        using var ws = await TofuWorkspace.CreateAsync("sqlite", SavedConfig, StateFixture, PlanResponses(CreatePlan));
        var planId = PlanId(await ws.PlanAsync("dev", Alice));
        await ws.CommitChangeAsync("an unreviewed change");

        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 3, apply.ToString());
        var verdict = Verdict(apply);
        Assert.StartsWith("✖ refused: the working copy is at commit", verdict, StringComparison.Ordinal);
        Assert.Contains($"but plan {planId} was made at", verdict, StringComparison.Ordinal);
        AssertNothingApplied(ws, apply, serial: 8);
    }

    [Fact]
    public async Task A_partial_apply_exits_1_with_what_is_known_and_blocks_the_stack_until_a_fresh_plan()
    {
        var responses = PlanResponses(CreatePlan);
        // Two of three creates complete, then the provider times out (a real captured error message).
        responses["apply"] = new JsonArray(new JsonObject
        {
            ["complete_ops"] = 2,
            ["exit"] = 1,
            ["stderr_example"] = new JsonObject { ["file"] = RepoPaths.Fixture("error-messages.md"), ["number"] = 13 },
        });
        using var ws = await TofuWorkspace.CreateAsync("sqlite", SavedConfig, StateFixture, responses);
        var planId = PlanId(await ws.PlanAsync("dev", Alice));

        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 1, apply.ToString());
        Assert.Equal(
            "✖ failed (partial_mutation): apply failed after mutation: 2 created, 1 create failed; provider timed out waiting for a resource; state serial 8 → 9; runbook: partial-apply-provider-timeout",
            Verdict(apply));
        Assert.Equal(9, ws.Serial());

        var again = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(again.ExitCode == 3, again.ToString());
        Assert.Contains($"network in dev is blocked: run {RunId(apply)} ended with partial_mutation", Verdict(again), StringComparison.Ordinal);
        Assert.Single(ws.ApplyCalls());
        Assert.Equal(9, ws.Serial());
    }

    [Fact]
    public async Task A_throttled_apply_is_retried_as_the_environment_allows_and_each_attempt_keeps_its_evidence()
    {
        const string RetryConfig = """
            environments:
              dev:
                plan: { mode: saved }
                retry: { max_attempts: 3, backoff: 1s, max_backoff: 2s, retryable: [throttled] }
            stacks:
              network: { path: stacks/network }

            """;
        var responses = PlanResponses(CreatePlan);
        // First the provider says "Rate exceeded" before changing anything (a real captured message), then the apply goes through.
        responses["apply"] = new JsonArray(
            new JsonObject { ["exit"] = 1, ["stderr_example"] = new JsonObject { ["file"] = RepoPaths.Fixture("error-messages.md"), ["number"] = 5 } },
            new JsonObject());
        using var ws = await TofuWorkspace.CreateAsync("sqlite", RetryConfig, StateFixture, responses);
        var planId = PlanId(await ws.PlanAsync("dev", Alice));

        var apply = await ws.RunAsync("apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Equal(2, ws.ApplyCalls().Count);
        Assert.Contains("attempt 1 failed (throttled)", apply.Stdout, StringComparison.Ordinal);
        Assert.Contains("attempt 2 of the apply", apply.Stdout, StringComparison.Ordinal);
        var evidence = await ws.RunAsync("evidence", "show", RunId(apply), "--json");
        Assert.True(evidence.ExitCode == 0, evidence.ToString());
        Assert.Contains("\"attempt\":1", evidence.Stdout.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\"attempt\":2", evidence.Stdout.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("throttled", evidence.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await ws.RunAsync("evidence", "verify")).ExitCode);
    }

    [Fact]
    public async Task Ctrl_C_during_the_apply_interrupts_the_tool_gracefully_and_exits_130()
    {
        var responses = PlanResponses(CreatePlan);
        responses["apply"] = new JsonArray(new JsonObject { ["hang"] = "exit_on_sigint" });
        using var ws = await TofuWorkspace.CreateAsync("sqlite", SavedConfig, StateFixture, responses);
        var planId = PlanId(await ws.PlanAsync("dev", Alice));

        var apply = await ws.RunAndInterruptAsync("double: hanging", "apply", planId, "--as", Alice);

        Assert.True(apply.ExitCode == 130, apply.ToString());
        Assert.Equal("■ cancelled: cancelled by alice@example.com during the apply; the engine stopped gracefully and the state serial is unchanged (8)", Verdict(apply));
        Assert.Contains("airlock: cancelling: the engine is asked to stop gracefully", apply.Stderr, StringComparison.Ordinal);
        Assert.Contains("Gracefully shutting down...", apply.Stdout, StringComparison.Ordinal); // the tool got the interrupt and said so
        Assert.Single(ws.ApplyCalls());
        Assert.Equal(8, ws.Serial());

        var runs = await ws.RunAsync("runs", "--json");
        using var runsJson = JsonDocument.Parse(runs.Stdout);
        Assert.Equal("cancelled", Assert.Single(runsJson.RootElement.GetProperty("runs").EnumerateArray()).GetProperty("state").GetString());
        var verify = await ws.RunAsync("evidence", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    /// <summary>The one result line of a human-mode apply ("✔ applied: …", "✖ refused: …", "✖ failed …", "■ cancelled: …").</summary>
    private static string Verdict(CliResult result)
    {
        var lines = result.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("✔ ", StringComparison.Ordinal) || l.StartsWith("✖ ", StringComparison.Ordinal) || l.StartsWith("■ ", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, "expected exactly one verdict line\n" + result);
        return lines[0];
    }

    private static string PlanId(JsonElement plan) => plan.GetProperty("plan_id").GetString()!;

    private static async Task ApproveAsync(TofuWorkspace ws, string planId, string approver, params string[] extra)
    {
        var approve = await ws.RunAsync(["approve", planId, "--as", approver, .. extra]);
        Assert.True(approve.ExitCode == 0, approve.ToString());
    }

    /// <summary>`airlock approvals PLAN_ID --json`; its exit code says whether an apply is authorised (0) or not (3).</summary>
    private static async Task<JsonElement> ApprovalsAsync(TofuWorkspace ws, string planId)
    {
        var result = await ws.RunAsync("approvals", planId, "--json");
        using var json = JsonDocument.Parse(result.Stdout);
        var satisfied = json.RootElement.GetProperty("satisfied").GetBoolean();
        Assert.True(result.ExitCode == (satisfied ? 0 : 3), result.ToString());
        return json.RootElement.Clone();
    }

    /// <summary>The run id from a human-mode apply's footer ("run RUN_ID · evidence #N · …").</summary>
    private static string RunId(CliResult result)
    {
        var footer = result.Stdout.Split('\n').Single(l => l.StartsWith("run ", StringComparison.Ordinal));
        return footer.Split(' ')[1];
    }

    /// <summary>The states a run moved through, from `airlock run show RUN_ID --json` (notes left out).</summary>
    private static async Task<List<string>> TransitionsAsync(TofuWorkspace ws, string runId)
    {
        var show = await ws.RunAsync("run", "show", runId, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        using var json = JsonDocument.Parse(show.Stdout);
        return [.. json.RootElement.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("from").GetString() != e.GetProperty("to").GetString())
            .Select(e => e.GetProperty("to").GetString()!)];
    }

    private static void AssertNothingApplied(TofuWorkspace ws, CliResult result, long serial)
    {
        Assert.Empty(ws.ApplyCalls());
        Assert.Equal(serial, ws.Serial());
        Assert.DoesNotContain("Exception", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    private static JsonObject PlanResponses(params string[] planJsonFiles) =>
        new() { ["plan"] = new JsonArray([.. planJsonFiles.Select(f => (JsonNode)new JsonObject { ["plan_json_file"] = f })]) };

    private static void SetResponses(TofuWorkspace ws, JsonObject responses)
    {
        var scenario = JsonNode.Parse(File.ReadAllText(ws.ScenarioFile))!.AsObject();
        scenario["responses"] = responses;
        File.WriteAllText(ws.ScenarioFile, scenario.ToJsonString());
    }

    private static JsonObject LoadPlan(string fixture) => JsonNode.Parse(File.ReadAllText(fixture))!.AsObject();

    private static JsonObject ResourceChange(JsonObject plan, string address) =>
        plan["resource_changes"]!.AsArray().Single(rc => (string?)rc!["address"] == address)!.AsObject();

    /// <summary>The same plan, but <paramref name="address"/> also sets tag <paramref name="key"/> (after and planned values).</summary>
    private static JsonObject WithExtraTag(JsonObject plan, string address, string key, string value)
    {
        ResourceChange(plan, address)["change"]!["after"]!["tags"]![key] = value;
        var planned = plan["planned_values"]!["root_module"]!["resources"]!.AsArray().Single(r => (string?)r!["address"] == address)!;
        planned["values"]!["tags"]![key] = value;
        return plan;
    }

    /// <summary>The same plan plus a delete of <paramref name="address"/> (an existing object shaped like <paramref name="copyBeforeFrom"/>).</summary>
    private static JsonObject WithAddedDelete(JsonObject plan, string address, string copyBeforeFrom)
    {
        var template = ResourceChange(plan, copyBeforeFrom);
        var name = address[(address.LastIndexOf('.') + 1)..];
        plan["resource_changes"]!.AsArray().Add(new JsonObject
        {
            ["address"] = address,
            ["mode"] = "managed",
            ["type"] = template["type"]!.DeepClone(),
            ["name"] = name,
            ["provider_name"] = template["provider_name"]!.DeepClone(),
            ["change"] = new JsonObject
            {
                ["actions"] = new JsonArray("delete"),
                ["before"] = template["change"]!["before"]!.DeepClone(),
                ["after"] = null,
                ["after_unknown"] = new JsonObject(),
            },
        });
        return plan;
    }

    /// <summary>Turns the create of <paramref name="address"/> into its delete: what was to be created now exists and goes away.</summary>
    private static JsonObject AsDelete(JsonObject plan, string address)
    {
        var change = ResourceChange(plan, address)["change"]!.AsObject();
        change["actions"] = new JsonArray("delete");
        change["before"] = change["after"]!.DeepClone();
        change["after"] = null;
        change["after_unknown"] = new JsonObject();
        plan["planned_values"]!["root_module"]!["resources"] = new JsonArray();
        return plan;
    }
}
