using System.Runtime.Versioning;

using Airlock.Domain.Failures;
using Airlock.Domain.Plans;
using Airlock.Engines.Command;
using Airlock.Engines.Processes;
using Airlock.Testing;

namespace Airlock.Engines.Tests;

/// <summary>
/// The scripts of examples/getting-started, run for real through the command engine, on a copy of
/// the workspace (the repository is never written to). They manage real files in target/&lt;env&gt;/site/.
/// </summary>
public sealed class GettingStartedScriptsTests : IDisposable
{
    private const string IndexHtml = "index.html";
    private const string RobotsTxt = "robots.txt";

    private readonly TempDir _workspace = CopyOfExample();
    private readonly CollectingSink _sink = new();

    private string StackDirectory => Path.Combine(_workspace.Path, "stacks", "site");

    private string Content(string name) => Path.Combine(StackDirectory, "content", name);

    private string Deployed(string name, string environment = "dev") => Path.Combine(_workspace.Path, "target", environment, "site", name);

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public async Task The_first_plan_creates_both_files_and_apply_deploys_them_advancing_the_serial_from_0_to_1()
    {
        var engine = Engine();

        var artifact = await engine.PlanAsync(Artifacts("first"), CancellationToken.None);
        var summary = await ReadPlanAsync(engine, artifact);
        var before = await engine.GetStateVersionAsync(CancellationToken.None);
        var applied = await engine.ApplyAsync(artifact, CancellationToken.None);
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var drift = await engine.CheckDriftAsync(CancellationToken.None);

        Assert.True(artifact.HasChanges);
        Assert.NotNull(artifact.PlanFile);
        Assert.Equal(
            [("local_file.index_html", PlanAction.Create), ("local_file.robots_txt", PlanAction.Create)],
            summary.Resources.Select(r => (r.Address, r.Action)).Order());
        Assert.All(summary.Resources, r => Assert.Equal("local_file", r.Type));
        Assert.Equal(0, before.Serial);
        Assert.Equal(1, after.Serial);
        Assert.Equal(new ChangeCounts(2, 0, 0, 0, 0, 0), applied.Changes);
        Assert.Equal(File.ReadAllBytes(Content(IndexHtml)), File.ReadAllBytes(Deployed(IndexHtml)));
        Assert.Equal(File.ReadAllBytes(Content(RobotsTxt)), File.ReadAllBytes(Deployed(RobotsTxt)));
        Assert.False(drift.Drifted);
        Assert.Contains("local_file.index_html: Creation complete after 0s", _sink.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plan_after_apply_proposes_nothing_and_applying_it_keeps_the_serial()
    {
        var engine = Engine();
        await ApplyFreshPlanAsync(engine, "first");

        var second = await engine.PlanAsync(Artifacts("second"), CancellationToken.None);
        var summary = await ReadPlanAsync(engine, second);
        await engine.ApplyAsync(second, CancellationToken.None);
        var serial = await engine.GetStateVersionAsync(CancellationToken.None);

        Assert.False(second.HasChanges);
        Assert.Equal(2, summary.Counts.NoOp);
        Assert.Equal(1, serial.Serial);
    }

    [Fact]
    public async Task Editing_a_content_file_plans_one_update_and_deleting_one_plans_one_delete()
    {
        var engine = Engine();
        await ApplyFreshPlanAsync(engine, "first");

        File.AppendAllText(Content(IndexHtml), "<!-- edited -->\n");
        var edited = await ReadPlanAsync(engine, await engine.PlanAsync(Artifacts("edited"), CancellationToken.None));
        File.Delete(Content(RobotsTxt));
        var deletedPlan = await engine.PlanAsync(Artifacts("deleted"), CancellationToken.None);
        var deleted = await ReadPlanAsync(engine, deletedPlan);
        var applied = await engine.ApplyAsync(deletedPlan, CancellationToken.None);
        var serial = await engine.GetStateVersionAsync(CancellationToken.None);

        Assert.Equal(
            [("local_file.index_html", PlanAction.Update), ("local_file.robots_txt", PlanAction.NoOp)],
            edited.Resources.Select(r => (r.Address, r.Action)).Order());
        Assert.Equal(
            [("local_file.index_html", PlanAction.Update), ("local_file.robots_txt", PlanAction.Delete)],
            deleted.Resources.Select(r => (r.Address, r.Action)).Order());
        Assert.Equal(new ChangeCounts(0, 1, 1, 0, 0, 0), applied.Changes);
        Assert.False(File.Exists(Deployed(RobotsTxt)));
        Assert.Equal(File.ReadAllBytes(Content(IndexHtml)), File.ReadAllBytes(Deployed(IndexHtml)));
        Assert.Equal(2, serial.Serial);
    }

    [Fact]
    public async Task Applying_an_old_plan_deploys_the_planned_content_not_the_current_content()
    {
        var engine = Engine();
        var planned = File.ReadAllBytes(Content(IndexHtml));
        var artifact = await engine.PlanAsync(Artifacts("old"), CancellationToken.None);

        File.WriteAllText(Content(IndexHtml), "<h1>written after the plan was approved</h1>\n");
        await engine.ApplyAsync(artifact, CancellationToken.None);
        var drift = await engine.CheckDriftAsync(CancellationToken.None);

        Assert.Equal(planned, File.ReadAllBytes(Deployed(IndexHtml)));
        Assert.True(drift.Drifted);
    }

    [Fact]
    public async Task A_plan_whose_target_changed_since_planning_is_refused_as_stale_before_anything_changes()
    {
        var engine = Engine();
        await ApplyFreshPlanAsync(engine, "first");
        File.AppendAllText(Content(IndexHtml), "<!-- v2 -->\n");
        var artifact = await engine.PlanAsync(Artifacts("v2"), CancellationToken.None);
        File.WriteAllText(Deployed(RobotsTxt), "edited by hand on the server\n");
        var before = await engine.GetStateVersionAsync(CancellationToken.None);
        var deployedIndex = File.ReadAllBytes(Deployed(IndexHtml));

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => engine.ApplyAsync(artifact, CancellationToken.None));
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var verdict = FailureClassifier.Classify(failure.ToObservation(before.Serial, after.Serial));

        Assert.Equal(deployedIndex, File.ReadAllBytes(Deployed(IndexHtml)));
        Assert.Equal(1, after.Serial);
        Assert.Equal(FailureClass.PreMutation, verdict.Class);
        Assert.Equal("tofu-saved-plan-stale", verdict.CauseId);
    }

    [Fact]
    public async Task SITE_FAIL_AFTER_1_changes_exactly_one_file_advances_the_serial_and_is_classified_as_partial_mutation()
    {
        var engine = Engine(new Dictionary<string, string> { ["SITE_FAIL_AFTER"] = "1" });
        var artifact = await engine.PlanAsync(Artifacts("partial"), CancellationToken.None);
        var before = await engine.GetStateVersionAsync(CancellationToken.None);

        var failure = await Assert.ThrowsAsync<EngineStepFailedException>(() => engine.ApplyAsync(artifact, CancellationToken.None));
        var after = await engine.GetStateVersionAsync(CancellationToken.None);
        var verdict = FailureClassifier.Classify(failure.ToObservation(before.Serial, after.Serial));

        Assert.Equal(1, failure.Process.ExitCode);
        Assert.Equal(1, new[] { IndexHtml, RobotsTxt }.Count(name => File.Exists(Deployed(name))));
        Assert.Equal(0, before.Serial);
        Assert.Equal(1, after.Serial);
        Assert.Equal(FailureClass.PartialMutation, verdict.Class);
        Assert.True(verdict.MutationObserved);
        Assert.Equal(1, verdict.Changes.Created);
    }

    [Fact]
    public async Task Cancelling_during_SITE_APPLY_DELAY_reaches_the_script_under_sh_c_and_stops_it_gracefully_with_nothing_changed()
    {
        // Run exactly as Airlock runs it, "/bin/sh -c ./apply.sh". dash does not pass SIGINT on to the
        // script, so this passes only because the runner interrupts the whole process tree.
        var engine = Engine(new Dictionary<string, string> { ["SITE_APPLY_DELAY"] = "60" }, gracePeriod: TimeSpan.FromSeconds(30));
        var artifact = await engine.PlanAsync(Artifacts("delayed"), CancellationToken.None);

        var failure = await CancelApplyWhileWaitingAsync(engine, artifact);
        var serial = await engine.GetStateVersionAsync(CancellationToken.None);

        Assert.Equal(Termination.Cancelled, failure.Process.Termination);
        Assert.False(failure.Process.ForceKilled);
        Assert.Contains("site: apply cancelled; nothing changed", failure.Process.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(Deployed(IndexHtml))));
        Assert.Equal(0, serial.Serial);
    }

    [Fact]
    public async Task Verify_passes_after_apply_and_fails_with_one_line_after_someone_edits_a_deployed_file()
    {
        var engine = Engine();
        await ApplyFreshPlanAsync(engine, "first");

        var passed = await RunVerifyAsync();
        File.AppendAllText(Deployed(IndexHtml), "<p>defaced</p>\n");
        var failed = await RunVerifyAsync();

        Assert.Equal(0, passed.ExitCode);
        Assert.Equal("site: 2 files in target/dev/site match the applied content", passed.Stdout.Trim());
        Assert.Equal(1, failed.ExitCode);
        var reason = Assert.Single(failed.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("site: target/dev/site/index.html was changed after apply", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_fails_when_nothing_was_ever_applied()
    {
        var result = await RunVerifyAsync();

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("site: nothing is deployed to target/dev/site (no state file)", result.Stderr.Trim());
    }

    [Fact]
    public async Task Outputs_are_a_JSON_object_with_the_site_url_and_file_count()
    {
        var engine = Engine();
        var empty = await engine.GetOutputsAsync(CancellationToken.None);
        await ApplyFreshPlanAsync(engine, "first");

        var outputs = await engine.GetOutputsAsync(CancellationToken.None);

        Assert.Equal(0, empty.GetProperty("files").GetInt32());
        Assert.Equal(2, outputs.GetProperty("files").GetInt32());
        var url = new Uri(outputs.GetProperty("url").GetString()!);
        Assert.True(url.IsFile);
        Assert.Equal(Path.GetFullPath(Deployed(IndexHtml)), Path.GetFullPath(url.LocalPath));
    }

    [Fact]
    public async Task Environments_deploy_to_separate_targets_and_a_dev_plan_is_refused_in_prod()
    {
        var dev = Engine();
        var prod = Engine(environment: "prod");
        var devPlan = await dev.PlanAsync(Artifacts("dev"), CancellationToken.None);

        var refused = await Assert.ThrowsAsync<EngineStepFailedException>(() => prod.ApplyAsync(devPlan, CancellationToken.None));
        await dev.ApplyAsync(devPlan, CancellationToken.None);
        var prodPlan = await prod.PlanAsync(Artifacts("prod"), CancellationToken.None);

        Assert.Contains("site: the plan was made for dev, not prod", refused.Process.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Deployed(IndexHtml, "dev")));
        Assert.False(File.Exists(Deployed(IndexHtml, "prod")));
        Assert.True(prodPlan.HasChanges);
        Assert.Equal(0, (await prod.GetStateVersionAsync(CancellationToken.None)).Serial);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")] // the workspace is POSIX shell; so is git's executable bit
    public void The_example_scripts_are_executable_in_the_repository()
    {
        var scripts = Directory.GetFiles(Path.Combine(RepoPaths.RepoRoot, "examples", "getting-started", "stacks", "site"), "*.sh")
            .Where(path => Path.GetFileName(path) != "common.sh")
            .ToList();

        Assert.Equal(["apply.sh", "outputs.sh", "plan.sh", "serial.sh", "verify.sh"], scripts.Select(Path.GetFileName).Order());
        Assert.All(scripts, path => Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), path + " is not executable"));
    }

    private static TempDir CopyOfExample()
    {
        var source = Path.Combine(RepoPaths.RepoRoot, "examples", "getting-started");
        var copy = new TempDir("airlock-getting-started");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("target", StringComparison.Ordinal) || relative.StartsWith(".airlock", StringComparison.Ordinal))
            {
                continue;
            }

            var destination = Path.Combine(copy.Path, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination); // keeps the executable bit, as git checkout does
        }

        return copy;
    }

    private string Artifacts(string name) => Path.Combine(_workspace.Path, ".airlock", "plans", name);

    // The command strings exactly as airlock.yaml has them, run the way Airlock runs them.
    private CommandEngine Engine(
        IReadOnlyDictionary<string, string>? knobs = null, string environment = "dev", string apply = "./apply.sh", TimeSpan? gracePeriod = null) => new(new CommandEngineOptions
        {
            Plan = Shell("./plan.sh"),
            Apply = Shell(apply),
            StateSerial = Shell("./serial.sh"),
            Outputs = Shell("./outputs.sh"),
            Stack = "site",
            Environment = environment,
            RunId = "run-0001",
            Commit = "0123456789abcdef0123456789abcdef01234567",
            Process = new EngineProcessOptions
            {
                WorkingDirectory = StackDirectory,
                Environment = knobs ?? new Dictionary<string, string>(),
                Timeout = TimeSpan.FromMinutes(2),
                GracePeriod = gracePeriod ?? TimeSpan.FromSeconds(20),
            },
        }, new ProcessRunner(), _sink);

    private static string[] Shell(string command) => ["/bin/sh", "-c", command];

    private async Task<EngineStepFailedException> CancelApplyWhileWaitingAsync(CommandEngine engine, PlanArtifact artifact)
    {
        using var cancel = new CancellationTokenSource();
        var apply = engine.ApplyAsync(artifact, cancel.Token);
        await _sink.WaitForLineAsync(line => line.StartsWith("site: waiting 60s", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        return await Assert.ThrowsAsync<EngineStepFailedException>(() => apply);
    }

    private static async Task<PlanSummary> ReadPlanAsync(CommandEngine engine, PlanArtifact artifact)
    {
        var json = await engine.ShowAsync(artifact, CancellationToken.None);
        await using var stream = json.OpenRead();
        return PlanReader.Read(stream);
    }

    private async Task ApplyFreshPlanAsync(CommandEngine engine, string name)
    {
        var artifact = await engine.PlanAsync(Artifacts(name), CancellationToken.None);
        await engine.ApplyAsync(artifact, CancellationToken.None);
    }

    private Task<ProcessResult> RunVerifyAsync() => new ProcessRunner().RunAsync(new ProcessSpec
    {
        FileName = "/bin/sh",
        Arguments = ["-c", "./verify.sh"],
        WorkingDirectory = StackDirectory,
        Environment = new Dictionary<string, string> { ["AIRLOCK_ENVIRONMENT"] = "dev" },
    }, _sink, CancellationToken.None);
}
