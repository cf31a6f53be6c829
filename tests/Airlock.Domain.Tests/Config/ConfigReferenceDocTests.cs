using Airlock.Domain.Config;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Config;

public class ConfigReferenceDocTests
{
    private static IEnumerable<string> KeyPaths(SchemaNode node, string prefix) => node switch
    {
        ObjectSchema obj => obj.Properties.SelectMany(p =>
        {
            var path = prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}";
            return KeyPaths(p.Schema, path).Prepend(path);
        }),
        MapSchema map => KeyPaths(map.Values, $"{prefix}.<name>"),
        ListSchema list => KeyPaths(list.Items, $"{prefix}[]"),
        _ => [],
    };

    [Fact]
    public void Every_key_the_loader_accepts_is_documented_in_configuration_md()
    {
        var reference = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "docs", "configuration.md"));
        var paths = KeyPaths(ConfigSchema.Root, "").ToList();

        Assert.Contains("stacks.<name>.verify[].http.body_contains", paths);
        var missing = paths.Where(p => !reference.Contains($"| `{p}` |", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "undocumented keys: " + string.Join(", ", missing));
    }
}
