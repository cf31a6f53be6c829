using System.Globalization;
using System.Text.RegularExpressions;

using YamlDotNet.RepresentationModel;

using static Airlock.Domain.Config.ConfigDiagnosticCodes;

namespace Airlock.Domain.Config;

/// <summary>
/// Walks the YAML tree against <see cref="ConfigSchema"/> and reports unknown keys, missing
/// keys, wrong value kinds and malformed scalars (durations, times, dates, enum words).
/// </summary>
internal sealed partial class SchemaChecker(Diagnostics diagnostics)
{
    public void Check(YamlNode node, SchemaNode schema, string path)
    {
        switch (schema)
        {
            case ObjectSchema obj:
                CheckObject(node, obj, path);
                break;
            case MapSchema map:
                CheckMap(node, map, path);
                break;
            case ListSchema list:
                if (node is not YamlSequenceNode sequence)
                {
                    diagnostics.Add(node, WrongType, $"{Where(path)} must be a list, got {YamlNodes.Describe(node)}");
                    return;
                }

                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Check(sequence.Children[i], list.Items, $"{path}[{i}]");
                }

                break;
            case ScalarSchema scalar:
                CheckScalar(node, scalar, path);
                break;
            default:
                throw new InvalidOperationException($"unhandled schema node {schema.GetType().Name}");
        }
    }

    private void CheckObject(YamlNode node, ObjectSchema obj, string path)
    {
        if (YamlNodes.IsNull(node) && !obj.Properties.Any(p => p.Required) && !obj.ExactlyOneOf)
        {
            return; // `drift:` with nothing after it means an empty mapping
        }

        if (node is not YamlMappingNode mapping)
        {
            diagnostics.Add(node, WrongType, $"{Where(path)} must be a mapping, got {YamlNodes.Describe(node)}");
            return;
        }

        var known = 0;
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                diagnostics.Add(keyNode, WrongType, $"keys in {Where(path)} must be plain names");
                continue;
            }

            var property = obj.Property(key);
            if (property is null)
            {
                var names = obj.Properties.Select(p => p.Name);
                var hint = Suggestions.Hint(key, names);
                if (hint.Length == 0)
                {
                    hint = $"; expected one of: {string.Join(", ", names)}";
                }

                diagnostics.Add(keyNode, UnknownKey, $"unknown key '{key}' {(path.Length == 0 ? "at the top level" : $"in '{path}'")}{hint}");
                continue;
            }

            known++;
            Check(value, property.Schema, Join(path, key));
        }

        foreach (var property in obj.Properties.Where(p => p.Required))
        {
            if (YamlNodes.Child(mapping, property.Name) is null)
            {
                diagnostics.Add(mapping, MissingKey, $"{Where(path)} is missing the required key '{property.Name}'");
            }
        }

        if (obj.ExactlyOneOf && known != 1 && mapping.Children.Count == known)
        {
            diagnostics.Add(mapping, BadValue, $"{Where(path)} must have exactly one of: {string.Join(", ", obj.Properties.Select(p => p.Name))}");
        }
    }

    private void CheckMap(YamlNode node, MapSchema map, string path)
    {
        if (YamlNodes.IsNull(node))
        {
            return; // `stacks:` with nothing after it: no stacks
        }

        if (node is not YamlMappingNode mapping)
        {
            diagnostics.Add(node, WrongType, $"{Where(path)} must be a mapping of names, got {YamlNodes.Describe(node)}");
            return;
        }

        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } || YamlNodes.IsNull(keyNode))
            {
                diagnostics.Add(keyNode, WrongType, $"keys in {Where(path)} must be plain names");
                continue;
            }

            if (!map.KeyValues.IsDefault && !map.KeyValues.Contains(key))
            {
                diagnostics.Add(keyNode, UnknownKey, $"unknown key '{key}' in {Where(path)}{HintOrList(key, map.KeyValues)}");
                continue;
            }

            Check(value, map.Values, Join(path, key));
        }
    }

    private void CheckScalar(YamlNode node, ScalarSchema schema, string path)
    {
        if (node is not YamlScalarNode scalar || YamlNodes.IsNull(node))
        {
            diagnostics.Add(node, WrongType, $"{Where(path)} must be {KindName(schema)}, got {YamlNodes.Describe(node)}");
            return;
        }

        var text = scalar.Value ?? "";
        switch (schema.Kind)
        {
            case ScalarKind.Text:
                break;
            case ScalarKind.WholeNumber:
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    diagnostics.Add(node, WrongType, $"{Where(path)} must be a whole number, got '{text}'");
                }
                else if (schema.Minimum == schema.Maximum && schema.Minimum is { } only && number != only)
                {
                    diagnostics.Add(node, BadValue, $"{Where(path)} must be {only}, got {number}");
                }
                else if (number < schema.Minimum || number > schema.Maximum)
                {
                    var range = schema.Maximum is null ? $"at least {schema.Minimum}" : $"between {schema.Minimum} and {schema.Maximum}";
                    diagnostics.Add(node, BadValue, $"{Where(path)} must be {range}, got {number}");
                }

                break;
            case ScalarKind.Boolean:
                if (text is not ("true" or "false"))
                {
                    diagnostics.Add(node, WrongType, $"{Where(path)} must be true or false, got '{text}'");
                }

                break;
            case ScalarKind.Duration:
                if (!Durations.TryParse(text, out _, out var reason))
                {
                    diagnostics.Add(node, BadDuration, $"bad duration '{text}' for {Where(path)}: {reason}");
                }

                break;
            case ScalarKind.TimeOfDay:
                if (ParseTimeOfDay(text) is null)
                {
                    diagnostics.Add(node, BadTime, $"'{text}' is not a time of day for {Where(path)}: use HH:MM from 00:00 to 24:00");
                }

                break;
            case ScalarKind.Date:
                if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                {
                    diagnostics.Add(node, BadDate, $"'{text}' is not a date for {Where(path)}: use YYYY-MM-DD");
                }

                break;
            case ScalarKind.Enum:
                if (!schema.Values.Contains(text))
                {
                    var code = schema.Values == ConfigSchema.DayNames ? BadDay : UnknownValue;
                    diagnostics.Add(node, code, $"unknown value '{text}' for {Where(path)}{HintOrList(text, schema.Values)}");
                }

                break;
            default:
                throw new InvalidOperationException($"unhandled scalar kind {schema.Kind}");
        }
    }

    /// <summary>HH:MM as a time span; 24:00 is accepted (end of day). Null when malformed.</summary>
    public static TimeSpan? ParseTimeOfDay(string text)
    {
        var match = TimeOfDayPattern().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var hours = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var minutes = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        if (hours > 24 || minutes > 59 || (hours == 24 && minutes != 0))
        {
            return null;
        }

        return new TimeSpan(hours, minutes, 0);
    }

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public static string Where(string path) => path.Length == 0 ? "the top level" : $"'{path}'";

    private static string HintOrList(string input, IEnumerable<string> candidates)
    {
        var hint = Suggestions.Hint(input, candidates);
        return hint.Length > 0 ? hint : $"; expected one of: {string.Join(", ", candidates)}";
    }

    private static string KindName(ScalarSchema schema) => schema.Kind switch
    {
        ScalarKind.WholeNumber => "a whole number",
        ScalarKind.Boolean => "true or false",
        ScalarKind.Duration => "a duration (e.g. 30s, 5m, 1h30m)",
        ScalarKind.TimeOfDay => "a time HH:MM",
        ScalarKind.Date => "a date YYYY-MM-DD",
        ScalarKind.Enum => $"one of: {string.Join(", ", schema.Values)}",
        _ => "a single value",
    };

    [GeneratedRegex(@"^(\d{1,2}):(\d{2})$")]
    private static partial Regex TimeOfDayPattern();
}
