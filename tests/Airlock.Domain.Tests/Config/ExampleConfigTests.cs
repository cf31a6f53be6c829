using Airlock.Domain.Config;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Config;

public class ExampleConfigTests
{
    private static readonly string ExamplePath = Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml");

    private static WorkspaceConfig LoadExample()
    {
        var result = WorkspaceConfigLoader.Load(File.ReadAllText(ExamplePath), "airlock.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    [Fact]
    public void The_shared_example_loads_without_diagnostics()
    {
        var config = LoadExample();

        Assert.Equal(1, config.Version);
        Assert.Equal("acme-platform", config.Project);
        Assert.Equal(EngineKind.OpenTofu, config.Defaults.Engine);
        Assert.Equal(["dev", "stage", "prod"], config.Environments.Select(e => e.Name));
        Assert.Equal(["network", "database", "ingress", "migrations"], config.Stacks.Select(s => s.Name));
    }

    [Fact]
    public void Environment_governance_is_mapped_with_durations_as_timespans()
    {
        var config = LoadExample();
        var dev = config.FindEnvironment("dev")!;
        var prod = config.FindEnvironment("prod")!;

        Assert.Equal(PlanMode.Replan, dev.Plan.Mode);
        Assert.Equal(TimeSpan.FromHours(4), dev.Plan.MaxAge);
        Assert.Equal(3, dev.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(10), dev.Retry.Backoff);
        Assert.Equal(["throttled", "transient_before_mutation"], dev.Retry.Retryable.ToArray());
        Assert.Equal(new CancellationPolicy(CancellationPolicy.Anyone, null), dev.Apply.Cancellation);
        Assert.Equal(TimeSpan.FromMinutes(5), dev.Promotion!.Soak);

        Assert.Equal(2, prod.Approvals.Required);
        Assert.Equal(["platform", "security"], prod.Approvals.Roles.ToArray());
        Assert.True(prod.Approvals.SeparationOfDuties);
        Assert.Equal(PlanMode.Saved, prod.Plan.Mode);
        Assert.Equal(TimeSpan.FromMinutes(30), prod.Plan.MaxAge);
        Assert.True(prod.Plan.RequireNoMaterialDrift);
        Assert.Equal(new CancellationPolicy(CancellationPolicy.TeamKind, "platform-oncall"), prod.Apply.Cancellation);
        Assert.Equal(TimeSpan.FromSeconds(120), prod.Apply.GracefulShutdown);
        Assert.Equal(DestroyDefault.Deny, prod.Destroy.Default);
        Assert.Contains("kms_key", prod.Destroy.ProtectedClasses);
        Assert.Equal("Europe/Berlin", prod.Windows!.TimeZone.Id);
        var period = Assert.Single(prod.Windows.Allow);
        Assert.Equal([DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday], period.Days.ToArray());
        Assert.Equal(new TimeSpan(9, 0, 0), period.From);
        Assert.Equal(new TimeSpan(17, 0, 0), period.To);
        var freeze = Assert.Single(prod.Freezes);
        Assert.Equal(new Freeze("year-end", new DateOnly(2026, 12, 20), new DateOnly(2027, 1, 3), null), freeze);
        Assert.Equal(["canary", "wave-2", "wave-3"], prod.Waves.Select(w => w.Name));
        Assert.Equal(TimeSpan.FromHours(1), prod.Waves[0].Bake);
        Assert.Equal(3, prod.Waves[2].MaxParallel);
        Assert.Null(prod.Promotion);
    }

    [Fact]
    public void Stacks_applications_and_queues_are_mapped()
    {
        var config = LoadExample();

        var network = config.Stack("network");
        Assert.Equal("infrastructure/network", network.Path);
        Assert.Equal("iac-apply-prod-network", network.IdentityFor("prod"));
        Assert.Equal(["shared-network"], network.Locks.ToArray());
        var http = Assert.IsType<HttpCheck>(network.Verify[0]);
        Assert.Equal("https://{env}.example.com/health", http.Url);
        Assert.Equal(10, http.Retries);
        Assert.Equal(TimeSpan.FromSeconds(30), http.Interval);
        Assert.IsType<DriftCheck>(network.Verify[1]);

        var database = config.Stack("database");
        Assert.Equal(new StackInput("vpc_id", "network", "vpc_id"), Assert.Single(database.Inputs));
        Assert.Equal(["network"], database.DependsOn.ToArray());

        var migrations = config.Stack("migrations");
        Assert.Equal(new CommandEngineConfig("./plan.sh", "./apply.sh", "./serial.sh", "./outputs.sh"), migrations.Command);

        var web = config.FindApplication("web")!;
        Assert.Equal(DeploymentStrategyKind.Canary, web.Strategy.Kind);
        Assert.Equal([10, 50, 100], web.Strategy.Steps.ToArray());
        Assert.Equal(new VersionSource("git-tag", "web-v*"), web.Version);
        Assert.Equal("{version}", Assert.IsType<HttpCheck>(Assert.Single(web.Health)).BodyContains);

        var prodNetwork = config.Queues.Single(q => q.Name == "prod-network");
        Assert.Equal("prod", prodNetwork.MatchEnvironment);
        Assert.Equal(["network"], prodNetwork.MatchStacks!.Value.ToArray());
        Assert.Equal(1, prodNetwork.Concurrency);
        Assert.Equal(StalePlanAction.Replan, prodNetwork.StalePlan);
        var prodApps = config.Queues.Single(q => q.Name == "prod-apps");
        Assert.Null(prodApps.MatchStacks);
        Assert.Equal(["emergency", "standard"], prodApps.PriorityClasses.ToArray());
        Assert.Equal("policies/", config.Policies.CustomRulesPath);
    }

    [Fact]
    public void Lookups_answer_the_questions_later_stages_ask()
    {
        var config = LoadExample();

        Assert.Equal(EngineKind.Pulumi, config.EffectiveEngine(config.Stack("ingress")));
        Assert.Equal(EngineKind.OpenTofu, config.EffectiveEngine(config.Stack("network")));
        Assert.Equal(EngineKind.Command, config.EffectiveEngine(config.Stack("migrations")));
        Assert.Equal(["dev", "stage", "prod"], config.EnvironmentsInPromotionOrder().Select(e => e.Name));
        // network lists its environments; the others have no list and run everywhere.
        Assert.Equal(["network", "database", "ingress", "migrations"], config.StacksEnabledIn("prod").Select(s => s.Name));
        Assert.Equal(["alice@example.com", "bob@example.com"], config.TeamMembers("platform").ToArray());
        Assert.Empty(config.TeamMembers("nobody"));
        Assert.Equal("database", config.ResourceClassOf("aws_rds_cluster"));
        Assert.Equal("dns_zone", config.ResourceClassOf("google_dns_managed_zone"));
        Assert.Null(config.ResourceClassOf("aws_s3_bucket"));
        Assert.Null(config.FindStack("nope"));
        Assert.Throws<KeyNotFoundException>(() => config.Stack("nope"));
    }

    [Fact]
    public void Promotion_order_follows_next_links_not_file_order()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            environments:
              prod: {}
              stage: { promotion: { next: prod } }
              dev: { promotion: { next: stage } }
            stacks:
              only-dev: { path: a, environments: [dev] }
            """,
            "airlock.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        Assert.Equal(["dev", "stage", "prod"], result.Config!.EnvironmentsInPromotionOrder().Select(e => e.Name));
        Assert.Empty(result.Config.StacksEnabledIn("prod"));
        Assert.Single(result.Config.StacksEnabledIn("dev"));
    }
}
