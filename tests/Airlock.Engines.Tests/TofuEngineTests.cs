using System.Security.Cryptography;
using System.Text.Json.Nodes;

using Airlock.Domain.Failures;
using Airlock.Engines.Processes;
using Airlock.Engines.Retry;
using Airlock.Engines.Tofu;

using Microsoft.Extensions.Time.Testing;

namespace Airlock.Engines.Tests;

public sealed class TofuEngineTests
{
    private static readonly string StateFixture = DoubleHarness.Fixture("state", "tfjson-110-sensitive-attributes.tfstate"); // serial 8
    private static readonly string CreatePlan = DoubleHarness.Fixture("tofu-show-json", "tofu-basic-create.json"); // 3 creates
    private static readonly string NoopPlan = DoubleHarness.Fixture("tofu-show-json", "tofu-basic-update-noop.json");

    private static TofuEngine Engine(DoubleHarness h, CollectingSink sink, string? requiredVersion = null, TimeSpan? timeout = null, TimeSpan? grace = null) =>
        new(new TofuOptions { BinaryPath = h.Binary, RequiredVersion = requiredVersion, LockTimeout = TimeSpan.FromSeconds(45), Process = h.ProcessOptions(timeout, grace) },
            new ProcessRunner(), sink);

    private static JsonObject Plan(string fixture) => new() { ["plan_json_file"] = fixture };

    private static JsonArray Seq(params JsonNode[] responses) => new(responses);

    [Fact]
    public async Task Inputs_reach_every_tofu_invocation_as_TF_VAR_variables_strings_raw_and_other_values_as_JSON()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject { ["plan"] = Seq(Plan(CreatePlan)) });
        var options = new TofuOptions
        {
            BinaryPath = h.Binary,
            InputsJson = """{"vpc_id":"vpc-0a1b2c","subnet_ids":["s-1","s-2"],"tags":{"team":"platform"},"replicas":3,"public":false}""",
            Process = h.ProcessOptions(),
        };

        await new TofuEngine(options, new ProcessRunner(), new CollectingSink()).PlanAsync(h.ArtifactDirectory, CancellationToken.None);

        var env = Assert.Single(h.Environments());
        Assert.Equal("vpc-0a1b2c", (string?)env["TF_VAR_vpc_id"]);
        Assert.Equal("""["s-1","s-2"]""", (string?)env["TF_VAR_subnet_ids"]);
        Assert.Equal("""{"team":"platform"}""", (string?)env["TF_VAR_tags"]);
        Assert.Equal("3", (string?)env["TF_VAR_replicas"]);
        Assert.Equal("false", (string?)env["TF_VAR_public"]);
    }

    [Fact]
    public async Task Plan_show_apply_outputs_and_drift_run_against_the_double_with_exact_arguments()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject { ["plan"] = Seq(Plan(CreatePlan), Plan(NoopPlan)) });
        File.WriteAllText(Path.Combine(h.WorkingDirectory, ".terraform.lock.hcl"), "provider \"registry.opentofu.org/hashicorp/null\" {\n  version = \"3.2.2\"\n}\n");
        var sink = new CollectingSink();
        var engine = Engine(h, sink, requiredVersion: "~> 1.8.0");

        await engine.InitAsync(CancellationToken.None);
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);
        var planJson = await engine.ShowAsync(artifact, CancellationToken.None);
        var before = await engine.GetStateVersionAsync(CancellationToken.None);
        var applied = await engine.ApplyAsync(artifact, CancellationToken.None);
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var outputs = await engine.GetOutputsAsync(CancellationToken.None);
        var drift = await engine.CheckDriftAsync(CancellationToken.None);

        var planFile = Path.Combine(h.ArtifactDirectory, "plan.tfplan");
        Assert.Equal(
            [
                ["version", "-json"],
                ["init", "-input=false", "-no-color", "-lock-timeout=45s"],
                ["plan", "-input=false", "-no-color", "-lock-timeout=45s", "-detailed-exitcode", "-out=" + planFile],
                ["show", "-json", "-no-color", planFile],
                ["state", "pull"],
                ["apply", "-input=false", "-no-color", "-lock-timeout=45s", planFile],
                ["state", "pull"],
                ["output", "-json", "-no-color"],
                ["plan", "-input=false", "-no-color", "-lock-timeout=45s", "-detailed-exitcode"],
            ],
            h.Calls());
        Assert.All(h.Environments(), env =>
        {
            Assert.Equal("1", (string?)env["TF_IN_AUTOMATION"]);
            Assert.Equal("<set>", (string?)env["AWS_SECRET_ACCESS_KEY"]);
        });

        Assert.True(artifact.HasChanges);
        Assert.Equal(planFile, artifact.PlanFile);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(h.WorkingDirectory, ".terraform.lock.hcl")))), artifact.DependencyLockDigest);
        Assert.Equal(File.ReadAllBytes(CreatePlan), File.ReadAllBytes(planJson.FilePath));
        Assert.Equal(new StateVersion(8, "fa0debfe-854c-b885-a355-bbb09fa86dde"), before);
        Assert.Equal(new StateVersion(9, "fa0debfe-854c-b885-a355-bbb09fa86dde"), after);
        Assert.Equal(new ChangeCounts(3, 0, 0, 0, 0, 0), applied.Changes);
        Assert.Equal("bar", outputs.GetProperty("foo").GetProperty("value").GetString());
        Assert.False(drift.Drifted);
        Assert.DoesNotContain("wJalrXUtnFEMI", sink.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("\"lineage\"", sink.AllText, StringComparison.Ordinal); // state never streamed
    }

    [Fact]
    public async Task Drift_is_reported_when_the_fresh_plan_exits_2()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject { ["plan"] = Seq(Plan(DoubleHarness.Fixture("tofu-show-json", "tofu-drift.json"))) });

        var drift = await Engine(h, new CollectingSink()).CheckDriftAsync(CancellationToken.None);

        Assert.True(drift.Drifted);
        Assert.Equal(2, drift.Process.ExitCode);
    }

    [Fact]
    public async Task A_binary_outside_the_required_version_is_refused_before_init()
    {
        using var h = DoubleHarness.Tofu(StateFixture, [], version: "1.5.7");

        var error = await Assert.ThrowsAsync<EngineConfigurationException>(() => Engine(h, new CollectingSink(), requiredVersion: ">= 1.6.0, < 2.0.0").InitAsync(CancellationToken.None));

        Assert.Equal($"{h.Binary} is version 1.5.7; the stack requires >= 1.6.0, < 2.0.0", error.Message);
        Assert.Equal([["version", "-json"]], h.Calls());
    }

    [Fact]
    public async Task Lock_held_by_another_run_is_classified_lock_unavailable()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject { ["plan"] = Seq(new JsonObject { ["exit"] = 1, ["stderr_example"] = DoubleHarness.ErrorExample(2) }) });

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => Engine(h, new CollectingSink()).PlanAsync(h.ArtifactDirectory, CancellationToken.None));
        var verdict = FailureClassifier.Classify(failure.ToObservation());

        Assert.Equal(FailureClass.LockUnavailable, verdict.Class);
        Assert.Equal("plan failed before mutation; nothing changed: state lock held by another run; runbook: state-lock-held", verdict.Statement);
    }

    [Fact]
    public async Task Access_denied_during_apply_with_an_unchanged_serial_is_auth()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject
        {
            ["plan"] = Seq(Plan(CreatePlan)),
            ["apply"] = Seq(new JsonObject { ["exit"] = 1, ["stderr_example"] = DoubleHarness.ErrorExample(8) }),
        });
        var engine = Engine(h, new CollectingSink());
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);

        var verdict = await ApplyAndClassifyAsync(engine, artifact);

        Assert.Equal(FailureClass.Auth, verdict.Class);
        Assert.Equal(8, h.StateNumber("serial"));
    }

    [Fact]
    public async Task Partial_apply_advances_the_serial_then_fails_and_is_classified_partial_mutation()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject
        {
            ["plan"] = Seq(Plan(CreatePlan)),
            ["apply"] = Seq(new JsonObject { ["complete_ops"] = 2, ["exit"] = 1, ["stderr_example"] = DoubleHarness.ErrorExample(13) }),
        });
        var engine = Engine(h, new CollectingSink());
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);

        var verdict = await ApplyAndClassifyAsync(engine, artifact);

        Assert.Equal(FailureClass.PartialMutation, verdict.Class);
        Assert.Equal(
            "apply failed after mutation: 2 created, 1 create failed; provider timed out waiting for a resource; state serial 8 → 9; runbook: partial-apply-provider-timeout",
            verdict.Statement);
    }

    [Fact]
    public async Task Failed_state_persistence_after_all_changes_is_a_state_write_failure()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject
        {
            ["plan"] = Seq(Plan(CreatePlan)),
            ["apply"] = Seq(new JsonObject { ["complete_ops"] = 3, ["advance_serial"] = 0, ["exit"] = 1, ["stderr_example"] = DoubleHarness.ErrorExample(10) }),
        });
        var engine = Engine(h, new CollectingSink());
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);

        var verdict = await ApplyAndClassifyAsync(engine, artifact);

        Assert.Equal(FailureClass.StateWriteFailure, verdict.Class);
        Assert.Equal(new ChangeCounts(3, 0, 0, 0, 0, 0), verdict.Changes);
        Assert.Equal("state-persist-failed", verdict.RunbookId);
    }

    [Fact]
    public async Task A_hanging_plan_is_timed_out_and_killed_and_classified_runner_failure()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject { ["plan"] = Seq(new JsonObject { ["hang"] = "ignore_sigint" }) });
        var sink = new CollectingSink();

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() =>
            Engine(h, sink, timeout: TimeSpan.FromSeconds(3), grace: TimeSpan.FromMilliseconds(500)).PlanAsync(h.ArtifactDirectory, CancellationToken.None));
        var verdict = FailureClassifier.Classify(failure.ToObservation());

        Assert.Equal(Termination.TimedOut, failure.Process.Termination);
        Assert.True(failure.Process.ForceKilled);
        Assert.Contains("double: hanging", sink.AllText, StringComparison.Ordinal);
        Assert.Equal(FailureClass.RunnerFailure, verdict.Class);
        Assert.True(verdict.Transient);
    }

    [Fact]
    public async Task Cancelling_an_apply_interrupts_the_tool_which_shuts_down_gracefully()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject
        {
            ["plan"] = Seq(Plan(CreatePlan)),
            ["apply"] = Seq(new JsonObject { ["hang"] = "exit_on_sigint" }),
        });
        var sink = new CollectingSink();
        var engine = Engine(h, sink, grace: TimeSpan.FromSeconds(20));
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);
        using var cts = new CancellationTokenSource();

        var apply = engine.ApplyAsync(artifact, cts.Token);
        await sink.WaitForLineAsync(l => l == "double: hanging", TimeSpan.FromSeconds(30));
        await cts.CancelAsync();
        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => apply);

        Assert.Equal(Termination.Cancelled, failure.Process.Termination);
        Assert.False(failure.Process.ForceKilled);
        Assert.Contains("Gracefully shutting down...", failure.Process.Stderr, StringComparison.Ordinal);
        Assert.Equal(FailureClass.RunnerFailure, FailureClassifier.Classify(failure.ToObservation()).Class);
    }

    [Fact]
    public async Task A_crash_exiting_2_without_a_plan_file_is_not_mistaken_for_changes()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject { ["plan"] = Seq(new JsonObject { ["crash"] = "panic" }) });

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => Engine(h, new CollectingSink()).PlanAsync(h.ArtifactDirectory, CancellationToken.None));
        var verdict = FailureClassifier.Classify(failure.ToObservation());

        Assert.Equal(2, failure.Process.ExitCode);
        Assert.Equal(FailureClass.RunnerFailure, verdict.Class);
        Assert.Equal("engine-crashed", verdict.CauseId);
    }

    [Fact]
    public async Task A_tool_killed_by_a_signal_during_apply_is_a_runner_failure_that_needs_reconciliation()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject
        {
            ["plan"] = Seq(Plan(CreatePlan)),
            ["apply"] = Seq(new JsonObject { ["crash"] = "sigkill" }),
        });
        var engine = Engine(h, new CollectingSink());
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);

        var verdict = await ApplyAndClassifyAsync(engine, artifact);

        Assert.Equal(FailureClass.RunnerFailure, verdict.Class);
        Assert.Equal("signal-exit", verdict.CauseId);
        Assert.Equal(RetryAction.RequireReplan, RetryPolicy.Default.Decide(1, verdict, () => 0.5).Action);
    }

    [Fact]
    public async Task A_failed_show_leaves_no_partial_plan_JSON()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject
        {
            ["plan"] = Seq(Plan(CreatePlan)),
            ["show"] = Seq(new JsonObject { ["stdout"] = "{\"format_version\":", ["exit"] = 1, ["stderr"] = "Error: Failed to read the given file as a state or plan file\n" }),
        });
        var engine = Engine(h, new CollectingSink());
        var artifact = await engine.PlanAsync(h.ArtifactDirectory, CancellationToken.None);

        await Assert.ThrowsAsync<EngineStepFailedException>(() => engine.ShowAsync(artifact, CancellationToken.None));

        Assert.False(File.Exists(Path.Combine(h.ArtifactDirectory, TofuEngine.PlanJsonFileName)));
        Assert.False(File.Exists(Path.Combine(h.ArtifactDirectory, TofuEngine.PlanJsonFileName + ".partial")));
    }

    [Fact]
    public async Task Throttling_then_success_is_retried_by_the_executor_on_a_fake_clock()
    {
        using var h = DoubleHarness.Tofu(StateFixture, new JsonObject
        {
            ["plan"] = Seq(new JsonObject { ["exit"] = 1, ["stderr_example"] = DoubleHarness.ErrorExample(5) }, Plan(CreatePlan)),
        });
        var engine = Engine(h, new CollectingSink());
        var time = new FakeTimeProvider();
        var executor = new ClassifiedRetryExecutor(RetryPolicy.Default, time, () => 0.25);

        var run = executor.ExecuteAsync<PlanArtifact>(async (_, ct) =>
        {
            try
            {
                return AttemptOutcome.Success(await engine.PlanAsync(h.ArtifactDirectory, ct));
            }
            catch (EngineStepFailedException e)
            {
                return AttemptOutcome.Failed<PlanArtifact>(FailureClassifier.Classify(e.ToObservation()));
            }
        }, CancellationToken.None);
        while (!run.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(10); // lets the real child process run; the backoff itself is fake time
        }

        var execution = await run;

        Assert.True(execution.Final.Succeeded);
        Assert.True(execution.Final.Value!.HasChanges);
        Assert.Equal(2, execution.Attempts.Count);
        Assert.Equal(FailureClass.Throttled, execution.Attempts[0].Failure!.Class);
        Assert.Equal(RetryAction.RetryAfterDelay, execution.Attempts[0].Decision!.Action);
        Assert.Equal(TimeSpan.FromSeconds(1.25), execution.Attempts[0].Decision!.Delay);
        Assert.Equal(2, h.Calls().Count(c => c[0] == "plan"));
    }

    private static async Task<FailureVerdict> ApplyAndClassifyAsync(TofuEngine engine, PlanArtifact artifact)
    {
        var before = await engine.GetStateVersionAsync(CancellationToken.None);
        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => engine.ApplyAsync(artifact, CancellationToken.None));
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        return FailureClassifier.Classify(failure.ToObservation(before.Serial, after.Serial));
    }
}
