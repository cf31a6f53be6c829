using Airlock.Domain.Config;
using Airlock.Domain.Releases;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Releases;

public class ReleaseLayoutTests
{
    private static WorkspaceConfig Example()
    {
        var result = WorkspaceConfigLoader.Load(File.ReadAllText(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml")), "airlock.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    private static ReleaseSpec Spec(string? through = null, params string[] stacks) =>
        new("v1.4.2", "0123456789abcdef", "v0.9.1", "alice@example.com", through, [.. stacks.Select(s => new StackReason(s, "files"))]);

    [Fact]
    public void Environments_follow_the_promotion_chain_and_stop_at_through()
    {
        var config = Example();

        Assert.Equal(["dev", "stage", "prod"], ReleaseLayout.Environments(config, null).Select(e => e.Name));
        Assert.Equal(["dev", "stage"], ReleaseLayout.Environments(config, "stage").Select(e => e.Name));
        Assert.Equal(["dev"], ReleaseLayout.Environments(config, "dev").Select(e => e.Name));
        Assert.Throws<ArgumentException>(() => ReleaseLayout.Environments(config, "qa"));
    }

    [Fact]
    public void Waved_environments_get_one_target_per_stack_and_region_and_one_app_per_region()
    {
        var progress = ReleaseLayout.Create(Example(), Spec(null, "network", "database"));

        var prod = progress.Environments.Single(e => e.Name == "prod");
        Assert.Equal(["canary", "wave-2", "wave-3"], prod.Waves.Select(w => w.Name));
        var canary = prod.Waves[0];
        Assert.Equal(["us-west-2"], canary.Regions);
        Assert.Equal(TimeSpan.FromHours(1), canary.Bake);
        Assert.Equal(["network@us-west-2", "database@us-west-2"], canary.Targets.Select(t => t.Label));
        Assert.Equal(["web@us-west-2"], canary.Apps.Select(a => a.Label));
        var wave2 = prod.Waves[1];
        Assert.Equal(2, wave2.MaxParallel);
        Assert.Equal(["network@us-east-1", "database@us-east-1", "network@eu-west-1", "database@eu-west-1"], wave2.Targets.Select(t => t.Label));
        Assert.Equal(6 * 2, prod.Targets.Count());
    }

    [Fact]
    public void Environments_without_waves_have_one_wave_and_only_the_stacks_that_run()
    {
        var progress = ReleaseLayout.Create(Example(), Spec("stage", "network"));

        Assert.Equal(["dev", "stage"], progress.Environments.Select(e => e.Name));
        var dev = Assert.Single(progress.Environments[0].Waves);
        Assert.Equal("dev", dev.Name);
        Assert.Equal(["network"], dev.Targets.Select(t => t.Label));
        Assert.All(progress.Environments.SelectMany(e => e.Targets), t => Assert.Equal(TargetStatus.Pending, t.Status));
        Assert.Equal("dev", progress.Current?.Name);
    }

    [Fact]
    public void Progress_survives_the_store_round_trip_with_statuses_and_times()
    {
        var progress = ReleaseLayout.Create(Example(), Spec(null, "network"));
        var at = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
        progress.Environments[0].Status = StageStatus.Succeeded;
        progress.Environments[1].SoakUntil = at;
        progress.Environments[2].Waves[0].Targets[0].Status = TargetStatus.AwaitingApproval;
        progress.Environments[2].Waves[0].Targets[0].PlanId = "plan-1";
        progress.Environments[2].Waves[0].Apps[0].Outputs["url"] = "http://127.0.0.1:18081";
        progress.SkipCanaryWait = new EmergencySkip("INC-7", "erin@example.com", at);
        progress.Note(at, "started");

        var json = progress.ToJson();
        var back = ReleaseProgress.FromJson(json);

        Assert.Contains("\"awaiting_approval\"", json, StringComparison.Ordinal);
        Assert.Equal("stage", back.Current?.Name);
        Assert.Equal(at, back.Environments[1].SoakUntil);
        Assert.Equal(TargetStatus.AwaitingApproval, back.Environments[2].Waves[0].Targets[0].Status);
        Assert.Equal("plan-1", back.Environments[2].Waves[0].Targets[0].PlanId);
        Assert.Equal("http://127.0.0.1:18081", back.Environments[2].Waves[0].Apps[0].Outputs["url"]);
        Assert.Equal("INC-7", back.SkipCanaryWait?.Ticket);
        Assert.Equal(json, back.ToJson());
    }
}
