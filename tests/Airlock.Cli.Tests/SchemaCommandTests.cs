using System.Text.Json;

using Airlock.Testing;

namespace Airlock.Cli.Tests;

public class SchemaCommandTests
{
    [Fact]
    public async Task Committed_schema_equals_the_generated_one()
    {
        var result = await CliRunner.RunAsync("schema");

        Assert.True(result.ExitCode == 0, result.ToString());
        var committed = await File.ReadAllTextAsync(Path.Combine(RepoPaths.RepoRoot, "docs", "airlock.schema.json"));
        // If this fails after a schema change: `dotnet run --project src/Airlock.Cli -- schema > docs/airlock.schema.json`.
        Assert.Equal(committed, result.Stdout);
    }

    [Fact]
    public async Task Schema_is_json_schema_draft_2020_12()
    {
        var result = await CliRunner.RunAsync("schema");

        var root = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        Assert.True(root.GetProperty("properties").TryGetProperty("stacks", out _));
    }
}
