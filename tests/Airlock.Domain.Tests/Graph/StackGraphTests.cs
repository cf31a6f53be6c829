using Airlock.Domain.Config;
using Airlock.Domain.Graph;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Graph;

public class StackGraphTests
{
    private static WorkspaceConfig Load(string yaml)
    {
        var result = WorkspaceConfigLoader.Load(yaml, "airlock.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    private static WorkspaceConfig Example() =>
        Load(File.ReadAllText(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml")));

    // A diamond with a side branch and a stack only enabled in dev:
    //   base → left → top, base → right → top, top → leaf; solo alone; devtools (dev only) → leaf.
    private const string Synthetic = """
        version: 1
        project: synthetic
        environments:
          dev: {}
          prod: {}
        stacks:
          top:
            path: s/top
            depends_on: [left, right]
            inputs: { left_id: left.id, right_id: right.id }
          leaf:
            path: s/leaf
            depends_on: [top, devtools]
          right:
            path: s/right
            depends_on: [base]
          left:
            path: s/left
            depends_on: [base]
            inputs: { base_id: base.id, base_arn: base.arn }
          base:
            path: s/base
          solo:
            path: s/solo
          devtools:
            path: s/devtools
            environments: [dev]
        """;

    [Fact]
    public void The_example_layers_network_first_then_database_and_ingress_then_migrations()
    {
        var graph = StackGraph.From(Example(), environment: null);

        Assert.Equal([["network"], ["database", "ingress"], ["migrations"]], graph.Layers.Select(l => l.ToArray()));
        Assert.Equal(["network", "database", "ingress", "migrations"], graph.Stacks.ToArray());
    }

    [Fact]
    public void The_example_edges_say_which_come_from_inputs()
    {
        var graph = StackGraph.From(Example(), environment: null);

        Assert.Equal(
            [("network", "database", StackEdgeKind.Input), ("network", "ingress", StackEdgeKind.DependsOn), ("database", "migrations", StackEdgeKind.DependsOn)],
            graph.Edges.Select(e => (e.From, e.To, e.Kind)));
        var input = Assert.Single(graph.Edges[0].Inputs);
        Assert.Equal(("vpc_id", "network", "vpc_id"), (input.Name, input.FromStack, input.Output));
        Assert.Empty(graph.Edges[1].Inputs);
    }

    [Fact]
    public void The_example_upstream_and_dependants_are_transitive()
    {
        var graph = StackGraph.From(Example(), environment: "prod");

        Assert.Equal(["network", "database"], graph.Upstream("migrations").ToArray());
        Assert.Equal(["database"], graph.DependenciesOf("migrations").ToArray());
        Assert.Equal(["database", "ingress", "migrations"], graph.Dependants("network").ToArray());
        Assert.Equal(["migrations"], graph.Dependants("database").ToArray());
        Assert.Empty(graph.Dependants("ingress").ToArray());
        Assert.Empty(graph.Upstream("network").ToArray());
    }

    [Fact]
    public void A_network_change_affects_everything_downstream_in_order()
    {
        var graph = StackGraph.From(Example(), environment: "prod");

        var affected = graph.Affected(["network"]);

        Assert.Equal(["network", "database", "ingress", "migrations"], affected.Select(a => a.Stack));
        Assert.True(affected[0].Changed);
        Assert.Empty(affected[0].ChangedUpstream.ToArray());
        Assert.All(affected.Skip(1), a => Assert.Equal(["network"], a.ChangedUpstream.ToArray()));
        Assert.All(affected.Skip(1), a => Assert.False(a.Changed));
    }

    [Fact]
    public void A_database_change_leaves_network_and_ingress_alone()
    {
        var graph = StackGraph.From(Example(), environment: null);

        var affected = graph.Affected(["database"]);

        Assert.Equal(["database", "migrations"], affected.Select(a => a.Stack));
        Assert.Equal(["database"], affected[1].ChangedUpstream.ToArray());
    }

    [Fact]
    public void Nothing_changed_affects_nothing()
    {
        Assert.Empty(StackGraph.From(Example(), environment: null).Affected([]));
    }

    [Fact]
    public void Synthetic_layers_put_each_stack_after_its_longest_chain_sorted_by_name()
    {
        var graph = StackGraph.From(Load(Synthetic), environment: null);

        Assert.Equal(
            [["base", "devtools", "solo"], ["left", "right"], ["top"], ["leaf"]],
            graph.Layers.Select(l => l.ToArray()));
        foreach (var edge in graph.Edges)
        {
            Assert.True(graph.Stacks.IndexOf(edge.From) < graph.Stacks.IndexOf(edge.To), $"{edge.From} must come before {edge.To}");
        }
    }

    [Fact]
    public void Synthetic_edges_merge_depends_on_and_inputs_into_one_edge_per_pair()
    {
        var graph = StackGraph.From(Load(Synthetic), environment: null);

        Assert.Equal(
            [
                ("base", "left", StackEdgeKind.Input),
                ("base", "right", StackEdgeKind.DependsOn),
                ("left", "top", StackEdgeKind.Input),
                ("right", "top", StackEdgeKind.Input),
                ("devtools", "leaf", StackEdgeKind.DependsOn),
                ("top", "leaf", StackEdgeKind.DependsOn),
            ],
            graph.Edges.Select(e => (e.From, e.To, e.Kind)));
        Assert.Equal(["base_id", "base_arn"], graph.Edges[0].Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Synthetic_diamond_change_reaches_the_top_once_with_every_changed_upstream()
    {
        var graph = StackGraph.From(Load(Synthetic), environment: null);

        var affected = graph.Affected(["left", "base"]);

        Assert.Equal(["base", "left", "right", "top", "leaf"], affected.Select(a => a.Stack));
        Assert.Equal([true, true, false, false, false], affected.Select(a => a.Changed));
        Assert.Equal(["base", "left"], affected.Single(a => a.Stack == "top").ChangedUpstream.ToArray());
        Assert.Equal(["base"], affected.Single(a => a.Stack == "right").ChangedUpstream.ToArray());
        Assert.Equal(["base", "devtools", "left", "right", "top"], graph.Upstream("leaf").ToArray());
    }

    [Fact]
    public void An_environment_drops_stacks_not_enabled_there_and_their_edges()
    {
        var config = Load(Synthetic);

        var prod = StackGraph.From(config, "prod");
        var dev = StackGraph.From(config, "dev");

        Assert.False(prod.Contains("devtools"));
        Assert.Equal([["base", "solo"], ["left", "right"], ["top"], ["leaf"]], prod.Layers.Select(l => l.ToArray()));
        Assert.DoesNotContain(prod.Edges, e => e.From == "devtools" || e.To == "devtools");
        Assert.Equal(["top"], prod.DependenciesOf("leaf").ToArray());
        Assert.Equal(["devtools", "top"], dev.DependenciesOf("leaf").Order(StringComparer.Ordinal));
        // A config stack disabled in the environment is ignored, not an error.
        Assert.Empty(prod.Affected(["devtools"]));
        Assert.Equal(["devtools", "leaf"], dev.Affected(["devtools"]).Select(a => a.Stack));
    }

    [Fact]
    public void Unknown_names_are_rejected()
    {
        var config = Load(Synthetic);
        var graph = StackGraph.From(config, "prod");

        Assert.Throws<ArgumentException>(() => StackGraph.From(config, "staging"));
        Assert.Throws<ArgumentException>(() => graph.Affected(["nope"]));
        Assert.Throws<ArgumentException>(() => graph.Dependants("devtools").ToArray());
        Assert.Throws<ArgumentException>(() => graph.Upstream("nope").ToArray());
    }

    [Fact]
    public void A_cycle_in_a_config_built_in_code_is_an_error_not_a_hang()
    {
        var valid = Load(Synthetic);
        // The loader rejects cycles, so make one by hand: base now depends on top.
        var cyclic = valid with
        {
            Stacks = [.. valid.Stacks.Select(s => s.Name == "base" ? s with { DependsOn = ["top"] } : s)],
        };

        var error = Assert.Throws<ArgumentException>(() => StackGraph.From(cyclic, null));
        Assert.Contains("cycle", error.Message, StringComparison.Ordinal);
        Assert.Contains("base", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inputs_alone_make_an_edge_when_a_config_built_in_code_omits_depends_on()
    {
        var valid = Load(Synthetic);
        var inputsOnly = valid with
        {
            Stacks = [.. valid.Stacks.Select(s => s.Name == "top" ? s with { DependsOn = [] } : s)],
        };

        var graph = StackGraph.From(inputsOnly, null);

        Assert.Equal(["left", "right"], graph.DependenciesOf("top").ToArray());
        Assert.Equal(["top", "leaf"], graph.Affected(["right"]).Skip(1).Select(a => a.Stack));
    }

    [Fact]
    public void A_wide_graph_of_five_hundred_stacks_layers_by_chain_length()
    {
        // Stack i depends on i-1 when i is not a multiple of 10: 50 chains of 10.
        var lines = new List<string> { "version: 1", "project: wide", "environments:", "  dev: {}", "stacks:" };
        for (var i = 0; i < 500; i++)
        {
            lines.Add($"  s{i:D3}:");
            lines.Add($"    path: s/{i}");
            if (i % 10 != 0)
            {
                lines.Add($"    depends_on: [s{i - 1:D3}]");
            }
        }

        var graph = StackGraph.From(Load(string.Join('\n', lines)), "dev");

        Assert.Equal(10, graph.Layers.Length);
        Assert.All(graph.Layers, l => Assert.Equal(50, l.Length));
        Assert.Equal(["s003", "s013"], graph.Layers[3].Take(2));
        Assert.Equal(["s495", "s496", "s497", "s498", "s499"], graph.Dependants("s494").ToArray());
    }
}
