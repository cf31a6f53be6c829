using System.Text.Json;

using Airlock.Domain.Config;
using Airlock.Testing;

using YamlDotNet.RepresentationModel;

namespace Airlock.Domain.Tests.Config;

public class ConfigJsonSchemaTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse(ConfigJsonSchema.Generate()).RootElement;

    [Fact]
    public void Declares_draft_2020_12_and_describes_the_root()
    {
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Schema.GetProperty("$schema").GetString());
        Assert.Equal("object", Schema.GetProperty("type").GetString());
        Assert.Equal(["version", "project", "environments"], Schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.False(Schema.GetProperty("additionalProperties").GetBoolean());
    }

    [Fact]
    public void Every_key_of_the_example_file_is_in_the_schema_with_a_description()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml"))));
        var visited = new List<string>();

        Walk(stream.Documents[0].RootNode, Schema, "", visited);

        // The walk really descended: deep keys of every section were matched.
        Assert.Contains("environments.prod.windows.allow[0].days", visited);
        Assert.Contains("stacks.network.verify[0].http.interval", visited);
        Assert.Contains("applications.web.strategy.kind", visited);
        Assert.Contains("queues.prod-network.match.environment", visited);
    }

    [Fact]
    public void A_misspelt_key_is_not_in_the_schema()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader("version: 1\nenvironments:\n  dev:\n    aprovals: {}\n"));

        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Walk(stream.Documents[0].RootNode, Schema, "", []));
        Assert.Contains("environments.dev.aprovals", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enum_values_and_defaults_come_from_the_loader_schema()
    {
        var engine = Schema.GetProperty("properties").GetProperty("defaults").GetProperty("properties").GetProperty("engine");

        Assert.Equal(ConfigSchema.EngineNames, engine.GetProperty("enum").EnumerateArray().Select(e => e.GetString()!));
        Assert.EndsWith("Default: opentofu.", engine.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    private static void Walk(YamlNode node, JsonElement schema, string path, List<string> visited)
    {
        Assert.True(schema.TryGetProperty("description", out var description) && description.GetString()!.Length > 0, $"{path} has no description");
        visited.Add(path);
        switch (node)
        {
            case YamlMappingNode mapping:
                Assert.Equal("object", schema.GetProperty("type").GetString());
                foreach (var (key, value) in mapping.Children)
                {
                    var name = ((YamlScalarNode)key).Value!;
                    var childPath = path.Length == 0 ? name : $"{path}.{name}";
                    if (schema.TryGetProperty("properties", out var properties))
                    {
                        Assert.True(properties.TryGetProperty(name, out var child), $"{childPath} is not in the schema");
                        Walk(value, child, childPath, visited);
                    }
                    else
                    {
                        Walk(value, schema.GetProperty("additionalProperties"), childPath, visited);
                    }
                }

                break;
            case YamlSequenceNode sequence:
                Assert.Equal("array", schema.GetProperty("type").GetString());
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Walk(sequence.Children[i], schema.GetProperty("items"), $"{path}[{i}]", visited);
                }

                break;
            default:
                Assert.Contains(schema.GetProperty("type").GetString(), new[] { "string", "integer", "boolean" });
                break;
        }
    }
}
