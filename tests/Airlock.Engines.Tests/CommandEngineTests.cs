using Airlock.Domain.Failures;
using Airlock.Engines.Command;
using Airlock.Engines.Processes;
using Airlock.Testing;

namespace Airlock.Engines.Tests;

public sealed class CommandEngineTests
{
    private static readonly string CreatePlan = RepoPaths.Fixture("tofu-show-json", "tofu-basic-create.json");
    private static readonly string NoopPlan = RepoPaths.Fixture("tofu-show-json", "tofu-basic-update-noop.json");

    private static CommandEngine Engine(TempDir dir, string? apply = null, string? region = "eu-west-1") => new(new CommandEngineOptions
    {
        Plan = ["./plan.sh", CreatePlan, NoopPlan],
        Apply = [apply ?? "./apply.sh"],
        StateSerial = ["./state.sh"],
        Outputs = ["./outputs.sh"],
        Stack = "network",
        Environment = "prod",
        RunId = "run-0042",
        Commit = "0123456789abcdef0123456789abcdef01234567",
        InputsJson = """{"vpc_id":"vpc-1"}""",
        Region = region,
        Process = new EngineProcessOptions { WorkingDirectory = dir.Path },
    }, new ProcessRunner(), new CollectingSink());

    private static TempDir Stack()
    {
        var dir = new TempDir("airlock-command");
        dir.Write("serial", "41\n");
        Scripts.Write(dir, "plan.sh", """
            set -e
            env | grep '^AIRLOCK_' | sort > env-plan.txt
            if [ -f applied ]; then cp "$2" "$AIRLOCK_PLAN_JSON"; else cp "$1" "$AIRLOCK_PLAN_JSON"; fi
            echo "artifact of $AIRLOCK_RUN_ID" > "$AIRLOCK_PLAN_FILE"
            echo planned
            """);
        Scripts.Write(dir, "apply.sh", """
            set -e
            env | grep '^AIRLOCK_' | sort > env-apply.txt
            test -f "$AIRLOCK_PLAN_FILE"
            test -f "$AIRLOCK_PLAN_JSON"
            echo $(( $(cat serial) + 1 )) > serial
            touch applied
            echo "local_file.demo: Creating..."
            echo "local_file.demo: Creation complete after 0s [id=demo]"
            """);
        Scripts.Write(dir, "state.sh", "cat serial");
        Scripts.Write(dir, "outputs.sh", "printf '{\"path\":\"%s\",\"inputs\":%s}\\n' \"$PWD\" \"$AIRLOCK_INPUTS\"");
        return dir;
    }

    [Fact]
    public async Task Plan_show_apply_outputs_and_drift_follow_the_public_contract_with_real_scripts()
    {
        using var dir = Stack();
        var engine = Engine(dir);
        var artifacts = Path.Combine(dir.Path, "artifacts");

        await engine.InitAsync(CancellationToken.None);
        var artifact = await engine.PlanAsync(artifacts, CancellationToken.None);
        var planJson = await engine.ShowAsync(artifact, CancellationToken.None);
        var before = await engine.GetStateVersionAsync(CancellationToken.None);
        var applied = await engine.ApplyAsync(artifact, CancellationToken.None);
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var outputs = await engine.GetOutputsAsync(CancellationToken.None);
        var drift = await engine.CheckDriftAsync(CancellationToken.None);

        Assert.True(artifact.HasChanges);
        Assert.Equal(Path.Combine(artifacts, "plan.artifact"), artifact.PlanFile);
        Assert.Equal(File.ReadAllBytes(CreatePlan), File.ReadAllBytes(planJson.FilePath));
        Assert.Equal(41, before.Serial);
        Assert.Equal(42, after.Serial);
        Assert.Equal(new ChangeCounts(1, 0, 0, 0, 0, 0), applied.Changes);
        Assert.Equal(dir.Path, outputs.GetProperty("path").GetString());
        Assert.Equal("vpc-1", outputs.GetProperty("inputs").GetProperty("vpc_id").GetString());
        Assert.False(drift.Drifted);

        Assert.Equal(
            [
                "AIRLOCK_COMMIT=0123456789abcdef0123456789abcdef01234567",
                "AIRLOCK_ENVIRONMENT=prod",
                """AIRLOCK_INPUTS={"vpc_id":"vpc-1"}""",
                "AIRLOCK_PLAN_FILE=" + Path.Combine(artifacts, "plan.artifact"),
                "AIRLOCK_PLAN_JSON=" + Path.Combine(artifacts, "plan.json"),
                "AIRLOCK_REGION=eu-west-1",
                "AIRLOCK_RUN_ID=run-0042",
                "AIRLOCK_STACK=network",
            ],
            File.ReadAllLines(Path.Combine(dir.Path, "env-apply.txt")));
    }

    [Fact]
    public async Task A_target_without_a_region_gets_an_empty_AIRLOCK_REGION_so_scripts_can_test_for_it()
    {
        using var dir = Stack();

        await Engine(dir, region: null).PlanAsync(Path.Combine(dir.Path, "a"), CancellationToken.None);

        Assert.Contains("AIRLOCK_REGION=", File.ReadAllLines(Path.Combine(dir.Path, "env-plan.txt")));
    }

    [Fact]
    public async Task A_plan_that_writes_no_plan_JSON_breaks_the_contract_with_a_clear_error()
    {
        using var dir = Stack();
        Scripts.Write(dir, "plan.sh", "echo 'forgot the plan'");

        var error = await Assert.ThrowsAsync<EngineConfigurationException>(() => Engine(dir).PlanAsync(Path.Combine(dir.Path, "a"), CancellationToken.None));

        Assert.Equal("command engine: plan exited 0 but wrote no plan JSON to AIRLOCK_PLAN_JSON", error.Message);
    }

    [Fact]
    public async Task Show_of_an_artifact_that_lost_its_plan_JSON_says_so_in_one_line()
    {
        using var dir = Stack();
        var engine = Engine(dir);
        var artifact = await engine.PlanAsync(Path.Combine(dir.Path, "a"), CancellationToken.None);
        File.Delete(Path.Combine(artifact.Directory, CommandEngine.PlanJsonFileName));

        var error = await Assert.ThrowsAsync<EngineConfigurationException>(() => engine.ShowAsync(artifact, CancellationToken.None));

        Assert.Equal($"command engine: the plan artifact in {artifact.Directory} has no plan.json", error.Message);
    }

    [Fact]
    public async Task Plan_JSON_without_resource_changes_breaks_the_contract()
    {
        using var dir = Stack();
        Scripts.Write(dir, "plan.sh", "echo '{\"format_version\":\"1.2\"}' > \"$AIRLOCK_PLAN_JSON\"");

        var error = await Assert.ThrowsAsync<EngineConfigurationException>(() => Engine(dir).PlanAsync(Path.Combine(dir.Path, "a"), CancellationToken.None));

        Assert.Equal("command engine: plan JSON has no \"resource_changes\" array", error.Message);
    }

    [Theory]
    [InlineData("""{"format_version":"1.2","resource_changes":[]}""", false)]
    [InlineData("""{"format_version":"1.2","resource_changes":[{"change":{"actions":["no-op"]}},{"change":{"actions":["read"]}}]}""", false)]
    [InlineData("""{"format_version":"1.2","resource_changes":[{"change":{"actions":["no-op"]}},{"change":{"before":{"actions":["delete"]},"actions":["no-op"]}}]}""", false)]
    [InlineData("""{"resource_changes":[{"change":{"actions":["delete","create"]}}],"format_version":"1.2"}""", true)]
    [InlineData("""{"format_version":"1.2","resource_changes":[{"address":"a","change":{"after":{"note":"PADDING"},"actions":["upd\u0061te"]}}]}""", true)]
    public async Task Whether_a_plan_proposes_changes_is_read_from_each_resource_changes_actions(string planJson, bool hasChanges)
    {
        // PADDING: a value longer than the reader's 64 KB buffer, so the check runs across refills and a grown buffer.
        using var dir = Stack();
        dir.Write("custom.json", planJson.Replace("PADDING", new string('x', 200_000), StringComparison.Ordinal));
        Scripts.Write(dir, "plan.sh", "cp custom.json \"$AIRLOCK_PLAN_JSON\"");

        var artifact = await Engine(dir).PlanAsync(Path.Combine(dir.Path, "a"), CancellationToken.None);

        Assert.Equal(hasChanges, artifact.HasChanges);
    }

    [Theory]
    [InlineData("""{"format_version":1.2,"resource_changes":[]}""", "command engine: plan JSON has no \"format_version\" string")]
    [InlineData("""[{"format_version":"1.2","resource_changes":[]}]""", "command engine: plan JSON has no \"format_version\" string")]
    [InlineData("""{"format_version":"1.2","resource_changes":{}}""", "command engine: plan JSON has no \"resource_changes\" array")]
    [InlineData("""{"format_version":"1.2","resource_changes":[{"change":{"actions":["create"]}}""", "command engine: plan JSON is invalid: ")]
    [InlineData("", "command engine: plan JSON is invalid: ")]
    public async Task Plan_JSON_that_breaks_the_contract_is_refused_with_the_reason(string planJson, string reason)
    {
        using var dir = Stack();
        dir.Write("custom.json", planJson);
        Scripts.Write(dir, "plan.sh", "cp custom.json \"$AIRLOCK_PLAN_JSON\"");

        var error = await Assert.ThrowsAsync<EngineConfigurationException>(() => Engine(dir).PlanAsync(Path.Combine(dir.Path, "a"), CancellationToken.None));

        Assert.StartsWith(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_apply_is_classified_like_any_engine()
    {
        using var dir = Stack();
        // The 429 diagnostic of error-messages.md Example 7 (logzio/terraform-provider-logzio#105).
        Scripts.Write(dir, "apply-throttled.sh", "echo '│ Error: API call GetSubAccount failed with status code 429, data: Too Many Requests' >&2\nexit 1");
        var engine = Engine(dir, apply: "./apply-throttled.sh");
        var artifact = await engine.PlanAsync(Path.Combine(dir.Path, "a"), CancellationToken.None);
        var before = await engine.GetStateVersionAsync(CancellationToken.None);

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => engine.ApplyAsync(artifact, CancellationToken.None));
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var verdict = FailureClassifier.Classify(failure.ToObservation(before.Serial, after.Serial));

        Assert.Equal(1, failure.Process.ExitCode);
        Assert.Equal(FailureClass.Throttled, verdict.Class);
        Assert.Equal("apply failed before mutation; nothing changed: provider rate limit (HTTP 429); state serial 41 unchanged; runbook: provider-throttled", verdict.Statement);
    }

    [Fact]
    public async Task A_state_serial_that_is_not_an_integer_is_rejected()
    {
        using var dir = Stack();
        Scripts.Write(dir, "state.sh", "echo 'serial: forty-one'");

        var error = await Assert.ThrowsAsync<EngineConfigurationException>(() => Engine(dir).GetStateVersionAsync(CancellationToken.None));

        Assert.Equal("command engine: state_serial printed \"serial: forty-one\", not an integer", error.Message);
    }
}
