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
        Assert.Equal(["preview", "--stack", Stack, "--non-interactive", "--refresh", "--event-log"], calls[9][..^1]);
        Assert.Equal(10, calls.Count);
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
        Assert.Equal("vpc-0a1b2c", outputs.GetProperty("vpcId").GetString());
        Assert.False(drift.Drifted); // every resource "same" in the replayed refresh preview
    }

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
