using Airlock.Domain.Config;
using Airlock.Domain.Queues;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Queues;

public class QueueDefinitionsTests
{
    [Fact]
    public void The_example_queues_map_to_definitions_that_route_network_and_apps_as_declared()
    {
        var path = Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml");
        var config = WorkspaceConfigLoader.Load(File.ReadAllText(path), path).Config!;

        var queues = QueueDefinitions.From(config);

        Assert.Equal(["prod-network", "prod-apps"], queues.Select(q => q.Name));
        Assert.Equal(1, queues[0].Concurrency);
        Assert.Equal(StalePlanPolicy.Replan, queues[0].StalePlan);
        Assert.Equal(["emergency", "standard"], queues[1].EffectivePriorityClasses);
        Assert.Equal(5, queues[1].Concurrency);
        Assert.Equal("prod-network", QueueMatcher.Match(queues, "prod", "network")?.Name);
        Assert.Equal("prod-apps", QueueMatcher.Match(queues, "prod", "database")?.Name);
        Assert.Null(QueueMatcher.Match(queues, "dev", "network"));
    }

    [Fact]
    public void A_queue_without_an_environment_is_a_config_error_with_its_position()
    {
        const string yaml = """
            version: 1
            project: p
            environments: { prod: {} }
            stacks: { network: { path: n } }
            queues:
              q: { match: { stacks: [network] } }
            """;

        var result = WorkspaceConfigLoader.Load(yaml, "airlock.yaml");

        Assert.False(result.IsValid);
        Assert.Contains(result.Diagnostics, d => d.Line == 6 && d.Message.Contains("environment", StringComparison.Ordinal));
    }
}
