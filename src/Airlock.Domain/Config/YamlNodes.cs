using System.Collections.Immutable;
using System.Globalization;

using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Airlock.Domain.Config;

/// <summary>
/// Tolerant readers over the YAML representation model. The schema pass has already reported
/// wrong kinds, so these return null/defaults instead of reporting again.
/// </summary>
internal static class YamlNodes
{
    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" });

    public static YamlNode? Child(YamlMappingNode? mapping, string key)
    {
        if (mapping is null)
        {
            return null;
        }

        foreach (var (k, v) in mapping.Children)
        {
            if (k is YamlScalarNode { Value: var name } && name == key)
            {
                return v;
            }
        }

        return null;
    }

    public static YamlMappingNode? Mapping(YamlMappingNode? mapping, string key) => Child(mapping, key) as YamlMappingNode;

    public static YamlScalarNode? Scalar(YamlMappingNode? mapping, string key) =>
        Child(mapping, key) is YamlScalarNode scalar && !IsNull(scalar) ? scalar : null;

    public static string? Text(YamlMappingNode? mapping, string key) => Scalar(mapping, key)?.Value;

    public static int Int(YamlMappingNode? mapping, string key, int fallback) =>
        int.TryParse(Text(mapping, key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    public static bool Bool(YamlMappingNode? mapping, string key, bool fallback) =>
        Text(mapping, key) switch
        {
            "true" => true,
            "false" => false,
            _ => fallback,
        };

    public static TimeSpan Duration(YamlMappingNode? mapping, string key, TimeSpan fallback) =>
        Text(mapping, key) is { } text && Durations.TryParse(text, out var value, out _) ? value : fallback;

    /// <summary>Scalar items of a sequence value (non-scalars skipped: already reported).</summary>
    public static ImmutableArray<YamlScalarNode> ScalarItems(YamlMappingNode? mapping, string key) =>
        Child(mapping, key) is YamlSequenceNode sequence
            ? [.. sequence.Children.OfType<YamlScalarNode>().Where(s => !IsNull(s))]
            : [];

    public static ImmutableArray<string> TextList(YamlMappingNode? mapping, string key) =>
        [.. ScalarItems(mapping, key).Select(s => s.Value!)];

    /// <summary>Mapping items of a sequence value.</summary>
    public static ImmutableArray<YamlMappingNode> MappingItems(YamlMappingNode? mapping, string key) =>
        Child(mapping, key) is YamlSequenceNode sequence ? [.. sequence.Children.OfType<YamlMappingNode>()] : [];

    /// <summary>Entries of a name-keyed mapping, in file order.</summary>
    public static IEnumerable<(YamlScalarNode Key, YamlNode Value)> Entries(YamlNode? node)
    {
        if (node is not YamlMappingNode mapping)
        {
            yield break;
        }

        foreach (var (k, v) in mapping.Children)
        {
            if (k is YamlScalarNode { Value: not null } key)
            {
                yield return (key, v);
            }
        }
    }

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "nothing",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "an alias",
    };
}
