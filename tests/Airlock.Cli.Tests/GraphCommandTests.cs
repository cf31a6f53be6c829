using System.Text.Json.Nodes;

using Airlock.Testing;

namespace Airlock.Cli.Tests;

/// <summary>
/// `airlock graph` on the shared example workspace in a real git repository: database uses the local
/// module modules/tags; the feature branch is compared with main.
/// </summary>
public sealed class GraphCommandTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoExtraEnvironment = [];

    private readonly GitHistory _repo = new();

    public GraphCommandTests()
    {
        _repo.Write("airlock.yaml", File.ReadAllText(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml")));
        _repo.Write("infrastructure/network/main.tf", """resource "null_resource" "vpc" {}""");
        _repo.Write("infrastructure/database/main.tf", """module "tags" { source = "../../modules/tags" }""");
        _repo.Write("infrastructure/ingress/Pulumi.yaml", "name: ingress\n");
        _repo.Write("stacks/migrations/plan.sh", "#!/bin/sh\n");
        _repo.Write("modules/tags/main.tf", """variable "name" {}""");
        _repo.Commit("first");
        _repo.Git("checkout", "-q", "-b", "feature");
    }

    public void Dispose() => _repo.Dispose();

    private Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync(_repo.Root, NoExtraEnvironment, ["graph", .. args]);

    private static JsonObject Parse(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private static string[] Names(JsonNode? array) => [.. array!.AsArray().Select(n => (string)n!)];

    [Fact]
    public async Task Text_shows_layers_with_dependencies_and_what_the_commit_runs_and_why()
    {
        _repo.Write("infrastructure/network/main.tf", """resource "null_resource" "vpc2" {}""");
        _repo.Commit("network change");

        var result = await RunAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        var lines = result.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(
            [
                "acme-platform: 4 stacks in 3 layers (all environments)",
                "layer 1",
                "  network",
                "layer 2",
                "  database    after network (inputs: vpc_id = network.vpc_id)",
                "  ingress     after network",
                "layer 3",
                "  migrations  after database",
                "",
            ],
            lines[..9]);
        Assert.Matches("^commit [0-9a-f]{12}: 1 changed file, compared main\\.\\.\\.[0-9a-f]{7} \\(since it left main at [0-9a-f]{7}\\)$", lines[9]);
        Assert.Equal(
            [
                "would run 4 of 4, in order:",
                "  network     changed: infrastructure/network/main.tf",
                "  database    dependant of network",
                "  ingress     dependant of network",
                "  migrations  dependant of network",
            ],
            lines[10..]);
    }

    [Fact]
    public async Task Json_lists_layers_edges_by_kind_and_affected_stacks_with_reasons()
    {
        _repo.Write("modules/tags/main.tf", """variable "name" { default = "x" }""");
        var commit = _repo.Commit("module change");

        var json = Parse(await RunAsync("--format", "json", "--env", "prod"));

        Assert.Equal("prod", (string?)json["environment"]);
        Assert.Equal([["network"], ["database", "ingress"], ["migrations"]], json["layers"]!.AsArray().Select(Names));
        Assert.Equal(
            ["network->database:input", "network->ingress:depends_on", "database->migrations:depends_on"],
            json["edges"]!.AsArray().Select(e => $"{e!["from"]}->{e["to"]}:{e["kind"]}"));
        Assert.Equal("vpc_id", (string?)json["edges"]![0]!["inputs"]![0]!["name"]);
        Assert.Equal(commit, (string?)json["commit"]!["sha"]);
        Assert.Equal("main", (string?)json["commit"]!["base"]);
        Assert.Equal(["modules/tags/main.tf"], Names(json["commit"]!["changed_files"]));
        var affected = json["affected"]!.AsArray();
        Assert.Equal(["database", "migrations"], affected.Select(a => (string)a!["stack"]!));
        Assert.Equal(["module", "dependant"], affected.Select(a => (string)a!["kind"]!));
        Assert.Equal("module modules/tags changed (modules/tags/main.tf)", (string?)affected[0]!["reason"]);
        Assert.Equal("modules/tags", (string?)affected[0]!["modules"]![0]!["directory"]);
        Assert.Equal("dependant of database", (string?)affected[1]!["reason"]);
        Assert.Equal(["database"], Names(affected[1]!["changed_upstream"]));
    }

    [Fact]
    public async Task Dot_draws_every_edge_and_highlights_only_affected_stacks()
    {
        _repo.Write("stacks/migrations/plan.sh", "#!/bin/sh\necho plan\n");
        _repo.Commit("migrations change");

        var result = await RunAsync("--format", "dot");

        Assert.True(result.ExitCode == 0, result.ToString());
        var dot = result.Stdout;
        Assert.StartsWith("digraph \"acme-platform\" {", dot, StringComparison.Ordinal);
        Assert.EndsWith("}\n", dot, StringComparison.Ordinal);
        Assert.Contains("  \"network\" -> \"database\" [label=\"vpc_id\"];\n", dot, StringComparison.Ordinal);
        Assert.Contains("  \"network\" -> \"ingress\" [style=dashed];\n", dot, StringComparison.Ordinal);
        Assert.Contains("  \"database\" -> \"migrations\" [style=dashed];\n", dot, StringComparison.Ordinal);
        Assert.Contains("  \"migrations\" [style=\"rounded,filled,bold\", fillcolor=\"#f4a259\", tooltip=\"changed: stacks/migrations/plan.sh\"];\n", dot, StringComparison.Ordinal);
        Assert.Contains("  \"network\";\n", dot, StringComparison.Ordinal);
        Assert.Contains("  \"database\";\n", dot, StringComparison.Ordinal);
        Assert.Contains("  \"ingress\";\n", dot, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_airlock_yaml_change_runs_every_stack_and_says_it_is_the_config()
    {
        _repo.Write("airlock.yaml", File.ReadAllText(Path.Combine(_repo.Root, "airlock.yaml")) + "\n# touched\n");
        _repo.Commit("config");

        var json = Parse(await RunAsync("--format", "json"));

        var affected = json["affected"]!.AsArray();
        Assert.Equal(["network", "database", "ingress", "migrations"], affected.Select(a => (string)a!["stack"]!));
        Assert.All(affected, a => Assert.Equal("config", (string?)a!["kind"]));
        Assert.Contains("airlock.yaml changed", (string?)affected[0]!["reason"], StringComparison.Ordinal);
        Assert.Contains("also dependant of network", (string?)affected[1]!["reason"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commit_and_base_options_pick_the_range()
    {
        _repo.Write("infrastructure/network/main.tf", """resource "null_resource" "vpc2" {}""");
        var networkCommit = _repo.Commit("network");
        _repo.Write("stacks/migrations/plan.sh", "#!/bin/sh\necho plan\n");
        _repo.Commit("migrations");

        var lastOnly = Parse(await RunAsync("--format", "json", "--base", "HEAD~1"));
        var upToNetwork = Parse(await RunAsync("--format", "json", "--commit", networkCommit, "--base", "main"));

        Assert.Equal(["migrations"], lastOnly["affected"]!.AsArray().Select(a => (string)a!["stack"]!));
        Assert.Equal(["network", "database", "ingress", "migrations"], upToNetwork["affected"]!.AsArray().Select(a => (string)a!["stack"]!));
        Assert.Equal(networkCommit, (string?)upToNetwork["commit"]!["sha"]);
    }

    [Fact]
    public async Task Nothing_relevant_changed_means_nothing_runs()
    {
        _repo.Write("README.md", "docs only\n");
        _repo.Commit("docs");

        var text = await RunAsync();
        var json = Parse(await RunAsync("--format", "json"));

        Assert.Contains("would run: nothing (no stack's files, local modules or airlock.yaml changed)", text.Stdout, StringComparison.Ordinal);
        Assert.Empty(json["affected"]!.AsArray());
    }

    [Fact]
    public async Task All_marks_every_stack_even_outside_git_and_without_it_the_commit_part_is_unknown()
    {
        using var plain = new TempDir("airlock-graph-plain");
        File.Copy(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml"), plain.File("airlock.yaml"));

        var all = await CliRunner.RunAsync(plain.Path, NoExtraEnvironment, "graph", "--all", "--format", "json", "--env", "dev");
        var unknown = await CliRunner.RunAsync(plain.Path, NoExtraEnvironment, "graph", "--format", "json");
        var unknownText = await CliRunner.RunAsync(plain.Path, NoExtraEnvironment, "graph");

        var allJson = Parse(all);
        Assert.Equal(["network", "database", "ingress", "migrations"], allJson["affected"]!.AsArray().Select(a => (string)a!["stack"]!));
        Assert.All(allJson["affected"]!.AsArray(), a => Assert.Equal("all", (string?)a!["kind"]));
        Assert.Null(allJson["commit"]);
        var unknownJson = Parse(unknown);
        Assert.Null(unknownJson["affected"]);
        Assert.Contains("not a git repository", (string?)unknownJson["affected_unknown"], StringComparison.Ordinal);
        Assert.Contains("would run: unknown: not a git repository with a commit", unknownText.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("airlock: unknown environment 'staging' (known: dev, stage, prod)", "--env", "staging")]
    [InlineData("airlock: unknown commit 'no-such-commit'", "--commit", "no-such-commit")]
    [InlineData("airlock: unknown base ref 'no-such-branch'", "--base", "no-such-branch")]
    [InlineData("airlock: unknown format 'svg' (known: text, dot, json)", "--format", "svg")]
    [InlineData("airlock: --all runs every stack whatever changed: it cannot be combined with --commit or --base", "--all", "--commit", "HEAD")]
    public async Task Bad_input_exits_two_with_one_line_and_no_output(string expected, params string[] args)
    {
        var result = await RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Stdout);
        Assert.Equal(expected + "\n", result.Stderr);
    }

    [Fact]
    public async Task Without_airlock_yaml_it_exits_two()
    {
        using var empty = new TempDir("airlock-graph-empty");

        var result = await CliRunner.RunAsync(empty.Path, NoExtraEnvironment, "graph");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("airlock: no airlock.yaml in ", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }
}
