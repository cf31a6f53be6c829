using System.Text.Json.Nodes;

using Airlock.Testing;

namespace Airlock.Cli.Tests.Releases;

/// <summary>
/// Output passing and regions end to end through the real CLI: two command-engine stacks whose real
/// scripts keep their "infrastructure" in files under target/&lt;env&gt;-&lt;region&gt;/. network's outputs
/// become database's inputs (AIRLOCK_INPUTS); prod rolls out in waves, one plan per region (AIRLOCK_REGION).
/// </summary>
public sealed class InputsAndRegionsTests : IDisposable
{
    private const string Config = """
        version: 1
        project: inputs-test
        defaults: { engine: command }
        teams:
          platform: [alice@example.com, bob@example.com]
        environments:
          dev:
            approvals: { required: 0 }
            plan: { mode: saved, max_age: 1h }
          prod:
            approvals: { required: 1, roles: [platform] }
            plan: { mode: saved, max_age: 1h }
            waves:
              - { name: canary, regions: [us-west-2], bake: 1m }
              - { name: wave-2, regions: [us-east-1], max_parallel: 1 }
        stacks:
          network:
            path: stacks/network
            owners: [platform]
            command: { plan: ./plan.sh, apply: ./apply.sh, outputs: ./outputs.sh }
          database:
            path: stacks/database
            owners: [platform]
            depends_on: [network]
            inputs: { vpc_id: network.vpc_id }
            command: { plan: ./plan.sh, apply: ./apply.sh }
        """;

    // Each target (environment, region) keeps its state in its own directory.
    private const string TargetLine = "T=\"../../target/$AIRLOCK_ENVIRONMENT-${AIRLOCK_REGION:-none}\"; mkdir -p \"$T\"";

    private readonly TempDir _dir = new("airlock-inputs-e2e");
    private readonly Dictionary<string, string?> _environment = new() { ["AIRLOCK_ACTOR"] = null, ["AIRLOCK_DATABASE_URL"] = null, ["VPC_ID"] = "vpc-1" };

    public InputsAndRegionsTests()
    {
        var git = new GitHistory(_dir.Path);
        git.Write(".gitignore", ".airlock/\ntarget/\n");
        git.Write("airlock.yaml", Config);
        Script("stacks/network/plan.sh", """
            want="$VPC_ID-${AIRLOCK_REGION:-none}"
            have=$(cat "$T/network.vpc" 2>/dev/null || true)
            if [ "$have" = "$want" ]; then action=no-op; before="{\"id\":\"$have\"}"
            elif [ -z "$have" ]; then action=create; before=null
            else action=update; before="{\"id\":\"$have\"}"; fi
            printf '{"format_version":"1.2","resource_changes":[{"address":"local_file.vpc","mode":"managed","type":"local_file","name":"vpc","provider_name":"test/net","change":{"actions":["%s"],"before":%s,"after":{"id":"%s"},"after_unknown":{}}}]}\n' "$action" "$before" "$want" > "$AIRLOCK_PLAN_JSON"
            echo "$want" > "$AIRLOCK_PLAN_FILE"
            """);
        Script("stacks/network/apply.sh", """
            cp "$AIRLOCK_PLAN_FILE" "$T/network.vpc"
            echo "local_file.vpc: Creation complete after 0s [id=vpc]"
            """);
        Script("stacks/network/outputs.sh", """
            if [ -f "$T/network.vpc" ]; then printf '{"vpc_id":"%s"}\n' "$(cat "$T/network.vpc")"; else echo '{}'; fi
            """);
        Script("stacks/database/plan.sh", """
            printf '%s' "$AIRLOCK_INPUTS" > "$T/database.plan-inputs"
            printf '{"format_version":"1.2","resource_changes":[{"address":"local_file.db","mode":"managed","type":"local_file","name":"db","provider_name":"test/db","change":{"actions":["create"],"before":null,"after":{"id":"db"},"after_unknown":{}}}]}\n' > "$AIRLOCK_PLAN_JSON"
            echo db > "$AIRLOCK_PLAN_FILE"
            """);
        Script("stacks/database/apply.sh", """
            printf '%s' "$AIRLOCK_INPUTS" > "$T/database.apply-inputs"
            echo "local_file.db: Creation complete after 0s [id=db]"
            """);
        git.Commit("two stacks");
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Database_plans_with_networks_applied_output_refuses_without_it_and_refuses_to_apply_after_it_changed()
    {
        var missing = await RunAsync("plan", "database", "--env", "dev", "--as", "alice@example.com");
        Assert.Equal(3, missing.ExitCode);
        Assert.Equal("airlock: refused: stack database needs network.vpc_id, but network has no output 'vpc_id' in dev: apply network first\n", missing.Stderr);

        await PlanAndApplyAsync("network", "dev");
        var plan = await PlanJsonAsync("database", "dev");
        Assert.Equal("""{"vpc_id":"vpc-1-none"}""", Target("dev-none", "database.plan-inputs"));
        Assert.StartsWith("sha256:", (string?)plan["inputs"]!["digest"], StringComparison.Ordinal);
        Assert.Equal("network.vpc_id", (string?)plan["inputs"]!["from"]!["vpc_id"]);
        Assert.DoesNotContain("vpc-1-none", plan.ToJsonString(), StringComparison.Ordinal); // the digest, never the value

        var applied = await ApplyAsync((string)plan["plan_id"]!, 0);
        Assert.Equal("succeeded", (string?)applied["state"]);
        Assert.Equal("""{"vpc_id":"vpc-1-none"}""", Target("dev-none", "database.apply-inputs"));

        // database is planned, then network's output changes before database is applied.
        var stale = await PlanJsonAsync("database", "dev");
        _environment["VPC_ID"] = "vpc-2";
        await PlanAndApplyAsync("network", "dev");
        File.Delete(Path.Combine(_dir.Path, "target", "dev-none", "database.apply-inputs"));

        var refused = await ApplyAsync((string)stale["plan_id"]!, 3);
        Assert.Equal("rejected", (string?)refused["state"]);
        Assert.Equal("upstream outputs changed since the plan (network.vpc_id): plan again", (string?)refused["statement"]);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "target", "dev-none", "database.apply-inputs")));

        var fresh = await PlanJsonAsync("database", "dev");
        Assert.NotEqual((string?)plan["inputs"]!["digest"], (string?)fresh["inputs"]!["digest"]);
        await ApplyAsync((string)fresh["plan_id"]!, 0);
        Assert.Equal("""{"vpc_id":"vpc-2-none"}""", Target("dev-none", "database.apply-inputs"));
    }

    [Fact]
    public async Task A_waved_environment_plans_and_applies_per_region_and_one_regions_plan_never_supersedes_anothers()
    {
        var noRegion = await RunAsync("plan", "network", "--env", "prod", "--as", "alice@example.com");
        Assert.Equal(2, noRegion.ExitCode);
        Assert.Equal("airlock: prod rolls out in waves, so a plan targets one region: plan --region R (one of us-west-2, us-east-1)\n", noRegion.Stderr);
        var wrongRegion = await RunAsync("plan", "network", "--env", "prod", "--region", "eu-west-9", "--as", "alice@example.com");
        Assert.Equal(2, wrongRegion.ExitCode);
        Assert.Equal("airlock: region 'eu-west-9' is not a target of network in prod (its regions: us-west-2, us-east-1)\n", wrongRegion.Stderr);

        var west = await PlanJsonAsync("network", "prod", "us-west-2");
        var east = await PlanJsonAsync("network", "prod", "us-east-1");
        Assert.Equal("us-west-2", (string?)west["region"]);
        Assert.Equal("us-east-1", (string?)east["region"]);

        // Planning us-east-1 afterwards does not supersede the us-west-2 plan.
        var approved = await RunAsync("approve", (string)west["plan_id"]!, "--as", "bob@example.com");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        var applied = await ApplyAsync((string)west["plan_id"]!, 0);
        Assert.Equal("succeeded", (string?)applied["state"]);
        Assert.Equal("vpc-1-us-west-2\n", Target("prod-us-west-2", "network.vpc"));
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "target", "prod-us-east-1")) && File.Exists(Path.Combine(_dir.Path, "target", "prod-us-east-1", "network.vpc")));

        var runs = await RunAsync("runs", "--json");
        var run = Assert.Single(JsonNode.Parse(runs.Stdout)!["runs"]!.AsArray());
        Assert.Equal("us-west-2", (string?)run!["region"]);
        Assert.Empty(JsonNode.Parse((await RunAsync("runs", "--region", "us-east-1", "--json")).Stdout)!["runs"]!.AsArray());
        var shown = await RunAsync("run", "show", (string)run["run_id"]!);
        Assert.Contains($"Run {(string)run["run_id"]!}: network in prod (us-west-2), succeeded", shown.Stdout, StringComparison.Ordinal);
        var approvals = await RunAsync("approvals", (string)east["plan_id"]!, "--json");
        Assert.Equal("us-east-1", (string?)JsonNode.Parse(approvals.Stdout)!["region"]);

        // Outputs are per region: network is applied in us-west-2 only.
        var databaseEast = await RunAsync("plan", "database", "--env", "prod", "--region", "us-east-1", "--as", "alice@example.com");
        Assert.Equal(3, databaseEast.ExitCode);
        Assert.Equal("airlock: refused: stack database needs network.vpc_id, but network has no output 'vpc_id' in prod (us-east-1): apply network first\n", databaseEast.Stderr);
        await PlanJsonAsync("database", "prod", "us-west-2");
        Assert.Equal("""{"vpc_id":"vpc-1-us-west-2"}""", Target("prod-us-west-2", "database.plan-inputs"));

        // A newer plan for the same region does supersede.
        var westAgain = await PlanJsonAsync("network", "prod", "us-west-2");
        var superseded = await RunAsync("approve", (string)east["plan_id"]!, "--as", "bob@example.com");
        Assert.True(superseded.ExitCode == 0, superseded.ToString());
        var stale = await RunAsync("approve", (string)west["plan_id"]!, "--as", "bob@example.com");
        Assert.Equal(3, stale.ExitCode);
        Assert.Contains($"is superseded by {(string)westAgain["plan_id"]!}, made later for network in prod (us-west-2)", stale.Stderr, StringComparison.Ordinal);
    }

    private void Script(string path, string body)
    {
        var full = Path.Combine(_dir.Path, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, "#!/bin/sh\nset -e\n" + TargetLine + "\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private string Target(string target, string file) => File.ReadAllText(Path.Combine(_dir.Path, "target", target, file));

    private Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync(_dir.Path, _environment, args);

    private async Task<JsonObject> PlanJsonAsync(string stack, string environment, string? region = null)
    {
        string[] args = ["plan", stack, "--env", environment, "--as", "alice@example.com", "--json"];
        var result = await RunAsync(region is null ? args : [.. args, "--region", region]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private async Task<JsonObject> ApplyAsync(string planId, int expectedExit)
    {
        var result = await RunAsync("apply", planId, "--as", "alice@example.com", "--json");
        Assert.True(result.ExitCode == expectedExit, result.ToString());
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private async Task PlanAndApplyAsync(string stack, string environment)
    {
        var plan = await PlanJsonAsync(stack, environment);
        var applied = await ApplyAsync((string)plan["plan_id"]!, 0);
        Assert.Equal("succeeded", (string?)applied["state"]);
    }
}
