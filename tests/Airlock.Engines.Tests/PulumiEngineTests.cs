using System.Text.Json.Nodes;

using Airlock.Domain.Failures;
using Airlock.Engines.Processes;
using Airlock.Engines.Pulumi;

namespace Airlock.Engines.Tests;

public sealed class PulumiEngineTests
{
    private const string Stack = "acme/network/prod";
    private static readonly string PreviewReplace = DoubleHarness.Fixture("pulumi", "engine-preview-replace.json");
    private static readonly string UpCreateOne = DoubleHarness.Fixture("pulumi", "display-up-create-one.json");
    private static readonly string RefreshDrift = DoubleHarness.Fixture("pulumi", "engine-refresh-drift-delete-update.json");
    private static readonly string AllSame = DoubleHarness.Fixture("pulumi", "display-stack-output-diff.json");
    private static readonly string UpFailedOp = DoubleHarness.Fixture("pulumi", "display-up-failed-op.json");

    private static JsonObject State() => new()
    {
        ["version"] = 12,
        ["outputs"] = new JsonObject { ["vpcId"] = "vpc-0a1b2c", ["dbPassword"] = "[secret]" },
        ["secret_outputs"] = new JsonObject { ["dbPassword"] = "s3cr3t-pw" },
    };

    private static PulumiEngine Engine(DoubleHarness h, CollectingSink sink) =>
        new(new PulumiOptions { BinaryPath = h.Binary, Stack = Stack, RequiredVersion = ">= 3.100", Process = h.ProcessOptions() }, new ProcessRunner(), sink);

    private static JsonObject Events(string fixture) => new() { ["events_file"] = fixture };

    [Fact]
    public async Task Preview_show_up_outputs_and_drift_run_against_the_double_with_exact_arguments()
    {
        using var h = DoubleHarness.Pulumi(State(), new JsonObject
        {
            ["preview"] = new JsonArray(Events(PreviewReplace), Events(AllSame)),
            ["up"] = new JsonArray(Events(UpCreateOne)),
        });
        var sink = new CollectingSink();
        var engine = Engine(h, sink);

        await engine.InitAsync(CancellationToken.None);
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);
        var planJson = await engine.ShowAsync(artifact, CancellationToken.None);
        var before = await engine.GetStateVersionAsync(CancellationToken.None);
        var applied = await engine.ApplyAsync(artifact, CancellationToken.None);
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var outputs = await engine.GetOutputsAsync(CancellationToken.None);
        var drift = await engine.CheckDriftAsync(CancellationToken.None);

        var calls = h.Calls();
        var plan = Path.Combine(h.ArtifactDirectory, "plan.pulumi.json");
        Assert.Equal(["version"], calls[0]);
        Assert.Equal(["stack", "select", "--stack", Stack, "--non-interactive"], calls[1]);
        Assert.Equal(["preview", "--stack", Stack, "--non-interactive", "--save-plan", plan, "--event-log", Path.Combine(h.ArtifactDirectory, "preview.events.jsonl")], calls[2]);
        Assert.Equal(["stack", "history", "--stack", Stack, "--json", "--page-size", "1"], calls[3]);
        Assert.Equal(["stack", "export", "--stack", Stack], calls[4]);
        Assert.Equal(["up", "--stack", Stack, "--non-interactive", "--yes", "--skip-preview", "--plan", plan, "--event-log", Path.Combine(h.ArtifactDirectory, "up.events.jsonl")], calls[5]);
        Assert.Equal(["stack", "output", "--stack", Stack, "--json"], calls[8]);
        Assert.Equal(["stack", "output", "--stack", Stack, "--json", "--show-secrets"], calls[9]);
        Assert.Equal(["preview", "--stack", Stack, "--non-interactive", "--refresh", "--event-log"], calls[10][..^1]);
        Assert.Equal(11, calls.Count);
        Assert.All(h.Environments(), env => Assert.Equal("true", (string?)env["PULUMI_EXPERIMENTAL"]));

        Assert.True(artifact.HasChanges);
        var changes = JsonNode.Parse(File.ReadAllText(planJson.FilePath))!;
        Assert.Equal("1.2", (string?)changes["format_version"]);
        var actions = changes["resource_changes"]!.AsArray().ToDictionary(rc => (string)rc!["name"]!, rc => string.Join(",", rc!["change"]!["actions"]!.AsArray().Select(a => (string)a!)));
        Assert.Equal(new Dictionary<string, string> { ["provA"] = "no-op", ["resA"] = "create,delete", ["resB"] = "no-op" }, actions);
        Assert.Equal(12, before.Serial);
        Assert.Equal(13, after.Serial);
        Assert.StartsWith("sha256:", after.ContentDigest, StringComparison.Ordinal);
        Assert.Equal(new ChangeCounts(1, 0, 0, 0, 0, 0), applied.Changes);
        Assert.Equal("vpc-0a1b2c", outputs.GetProperty("vpcId").GetProperty("value").GetString());
        Assert.False(outputs.GetProperty("vpcId").GetProperty("sensitive").GetBoolean());
        Assert.Equal("s3cr3t-pw", outputs.GetProperty("dbPassword").GetProperty("value").GetString());
        Assert.True(outputs.GetProperty("dbPassword").GetProperty("sensitive").GetBoolean());
        Assert.False(drift.Drifted); // every resource "same" in the replayed refresh preview
    }

    [Fact]
    public async Task Inputs_reach_preview_and_up_as_config_in_a_private_config_file_and_secrets_are_set_encrypted()
    {
        using var h = DoubleHarness.Pulumi(State(), new JsonObject
        {
            ["preview"] = new JsonArray(Events(PreviewReplace)),
            ["up"] = new JsonArray(Events(UpCreateOne)),
        });
        const string committedConfig = "config:\n  network:region: eu-west-1\n";
        File.WriteAllText(Path.Combine(h.WorkingDirectory, "Pulumi.prod.yaml"), committedConfig);
        var sink = new CollectingSink();
        var options = new PulumiOptions
        {
            BinaryPath = h.Binary,
            Stack = Stack,
            InputsJson = """{"vpc_id":"vpc-0a1b2c","subnets":["a","b"],"db_password":"pa55-w0rd"}""",
            SecretInputNames = ["db_password"],
            Process = h.ProcessOptions() with { Secrets = ["pa55-w0rd"] },
        };
        var engine = new PulumiEngine(options, new ProcessRunner(), sink);

        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);
        await engine.ApplyAsync(artifact, CancellationToken.None);

        var calls = h.Calls();
        Assert.Equal(4, calls.Count);
        foreach (var (config, command) in new[] { (calls[0], calls[1]), (calls[2], calls[3]) })
        {
            var file = ScenarioPlayerFlag(config, "--config-file");
            Assert.Equal(["config", "set", "--stack", Stack, "--config-file", file, "--secret", "--non-interactive", "--", "db_password", "pa55-w0rd"], config);
            Assert.Equal(file, ScenarioPlayerFlag(command, "--config-file"));
            Assert.Equal("Pulumi.prod.yaml", Path.GetFileName(file));
            Assert.NotEqual(h.WorkingDirectory, Path.GetDirectoryName(file));
            Assert.False(File.Exists(file)); // the private copy is gone after the step
            Assert.Equal(["--config", "vpc_id=vpc-0a1b2c", "--config", """subnets=["a","b"]"""], command[^4..]);
            Assert.DoesNotContain(command, a => a.Contains("pa55-w0rd", StringComparison.Ordinal));
        }

        Assert.Equal("preview", calls[1][0]);
        Assert.Equal("up", calls[3][0]);
        Assert.Equal(committedConfig, File.ReadAllText(Path.Combine(h.WorkingDirectory, "Pulumi.prod.yaml")));
        Assert.DoesNotContain("pa55-w0rd", sink.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_inputs_preview_gets_no_config_arguments()
    {
        using var h = DoubleHarness.Pulumi(State(), new JsonObject { ["preview"] = new JsonArray(Events(PreviewReplace)) });

        await Engine(h, new CollectingSink()).PlanAsync(h.ArtifactDirectory, CancellationToken.None);

        var call = Assert.Single(h.Calls());
        Assert.DoesNotContain(call, a => a.StartsWith("--config", StringComparison.Ordinal));
    }

    private static string ScenarioPlayerFlag(string[] args, string name) => args[Array.IndexOf(args, name) + 1];

    [Fact]
    public async Task A_refresh_that_finds_deleted_and_updated_resources_is_drift()
    {
        using var h = DoubleHarness.Pulumi(State(), new JsonObject { ["preview"] = new JsonArray(Events(RefreshDrift)) });

        var drift = await Engine(h, new CollectingSink()).CheckDriftAsync(CancellationToken.None);

        Assert.True(drift.Drifted);
    }

    [Fact]
    public async Task A_failed_up_that_changed_resources_is_partial_mutation_counted_from_engine_events()
    {
        using var h = DoubleHarness.Pulumi(State(), new JsonObject
        {
            ["preview"] = new JsonArray(Events(PreviewReplace)),
            ["up"] = new JsonArray(new JsonObject { ["events_file"] = UpFailedOp, ["exit"] = 255, ["stderr"] = "error: update failed\n" }),
        });
        var engine = Engine(h, new CollectingSink());
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);
        var before = await engine.GetStateVersionAsync(CancellationToken.None);

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => engine.ApplyAsync(artifact, CancellationToken.None));
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var verdict = FailureClassifier.Classify(failure.ToObservation(before.Serial, after.Serial));

        Assert.Equal(FailureClass.PartialMutation, verdict.Class);
        Assert.Equal(new ChangeCounts(0, 0, 1, 0, 1, 0), verdict.Changes);
        Assert.Equal("apply failed after mutation: 1 deleted, 1 update failed; exit code 255; state serial 12 → 13; runbook: partial-apply", verdict.Statement);
    }

    [Fact]
    public async Task A_locked_stack_is_classified_lock_unavailable()
    {
        // Wording from pulumi/pulumi#9148.
        using var h = DoubleHarness.Pulumi(State(), new JsonObject
        {
            ["preview"] = new JsonArray(new JsonObject
            {
                ["exit"] = 255,
                ["stderr"] = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or manually delete the lock file(s).\n",
            }),
        });

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => Engine(h, new CollectingSink()).PlanAsync(h.ArtifactDirectory, CancellationToken.None));

        Assert.Equal(FailureClass.LockUnavailable, FailureClassifier.Classify(failure.ToObservation()).Class);
    }
}
