using System.Text.Json;

using Airlock.Testing;

namespace Airlock.Cli.Tests;

public class ValidateCommandTests
{
    private static readonly string Example = Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml");

    private static readonly Dictionary<string, string?> NoExtraEnvironment = [];

    private const string Broken = """
        version: 1
        project: p
        environments:
          prod:
            plan: { max_age: 90 }
        stacks:
          network: { path: n, depends_on: [netwrk] }
        """;

    [Fact]
    public async Task The_shared_example_is_valid_and_exits_zero()
    {
        var result = await CliRunner.RunAsync("validate", Example);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("valid (3 environments, 4 stacks, 1 applications, 2 queues)", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Without_a_path_it_reads_airlock_yaml_in_the_working_directory()
    {
        using var dir = new TempDir();
        File.Copy(Example, dir.File("airlock.yaml"));

        var result = await CliRunner.RunAsync(dir.Path, NoExtraEnvironment, "validate");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("airlock.yaml: valid", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Problems_are_printed_one_per_line_with_a_count_and_exit_one()
    {
        using var dir = new TempDir();
        dir.Write("airlock.yaml", Broken);

        var result = await CliRunner.RunAsync(dir.Path, NoExtraEnvironment, "validate", "airlock.yaml");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            [
                "airlock.yaml:5:22: error: bad duration '90' for 'environments.prod.plan.max_age': '90' has no unit; add s, m, h or d (e.g. 90s)",
                "airlock.yaml:7:36: error: stack 'network' depends_on names stack 'netwrk', which does not exist; did you mean 'network'?",
                "2 problems in airlock.yaml",
            ],
            result.Stdout.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Json_output_lists_every_diagnostic()
    {
        using var dir = new TempDir();
        dir.Write("airlock.yaml", Broken);

        var result = await CliRunner.RunAsync(dir.Path, NoExtraEnvironment, "validate", "airlock.yaml", "--json");

        Assert.Equal(1, result.ExitCode);
        var root = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.False(root.GetProperty("valid").GetBoolean());
        Assert.Equal("airlock.yaml", root.GetProperty("file").GetString());
        var diagnostics = root.GetProperty("diagnostics").EnumerateArray().ToList();
        Assert.Equal(2, diagnostics.Count);
        Assert.Equal("airlock.yaml", diagnostics[1].GetProperty("file").GetString());
        Assert.Equal(7, diagnostics[1].GetProperty("line").GetInt32());
        Assert.Equal(36, diagnostics[1].GetProperty("column").GetInt32());
        Assert.Equal("unknown-stack", diagnostics[1].GetProperty("code").GetString());
        Assert.Equal("stack 'network' depends_on names stack 'netwrk', which does not exist; did you mean 'network'?", diagnostics[1].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Json_output_for_a_valid_file()
    {
        var result = await CliRunner.RunAsync("validate", Example, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var root = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.Empty(root.GetProperty("diagnostics").EnumerateArray());
    }

    [Fact]
    public async Task A_missing_file_is_one_line_on_stderr_and_exit_one()
    {
        using var dir = new TempDir();

        var result = await CliRunner.RunAsync(dir.Path, NoExtraEnvironment, "validate", "nope.yaml");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("airlock: cannot read nope.yaml: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_argument_means_its_airlock_yaml()
    {
        using var dir = new TempDir();
        File.Copy(Example, dir.File("airlock.yaml"));

        var result = await CliRunner.RunAsync("validate", dir.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
