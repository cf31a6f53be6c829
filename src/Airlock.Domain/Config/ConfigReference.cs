using System.Text;

namespace Airlock.Domain.Config;

/// <summary>
/// The configuration reference (docs/configuration-reference.md), generated from <see cref="ConfigSchema"/> —
/// the same declaration the loader checks against and the JSON Schema is rendered from, so the three never drift.
/// One section per object, one table row per key.
/// </summary>
public static class ConfigReference
{
    /// <summary>The whole reference as Markdown.</summary>
    public static string Generate()
    {
        var text = new StringBuilder();
        text.Append("# airlock.yaml reference\n\n");
        text.Append("Generated from the schema the loader validates against (`airlock docs config`); do not edit by hand.\n");
        text.Append("A guide with examples is in [configuration.md](configuration.md); the same schema as JSON Schema is [airlock.schema.json](airlock.schema.json).\n");
        Section(text, "(top level)", ConfigSchema.Root);
        return text.ToString();
    }

    private static void Section(StringBuilder text, string path, ObjectSchema obj)
    {
        text.Append("\n## `").Append(path).Append("`\n\n").Append(obj.Description).Append('\n');
        if (obj.ExactlyOneOf)
        {
            text.Append("\nExactly one of these keys.\n");
        }

        text.Append("\n| key | value | required | default | description |\n| --- | --- | --- | --- | --- |\n");
        foreach (var property in obj.Properties)
        {
            text.Append("| `").Append(property.Name).Append("` | ").Append(Shape(property.Schema)).Append(" | ")
                .Append(property.Required ? "yes" : string.Empty).Append(" | ")
                .Append(property.Default is { } d ? $"`{Cell(d)}`" : string.Empty).Append(" | ")
                .Append(Cell(property.Schema.Description)).Append(" |\n");
        }

        foreach (var property in obj.Properties)
        {
            var child = path == "(top level)" ? property.Name : $"{path}.{property.Name}";
            Nested(text, child, property.Schema);
        }
    }

    private static void Nested(StringBuilder text, string path, SchemaNode node)
    {
        switch (node)
        {
            case ObjectSchema obj:
                Section(text, path, obj);
                break;
            case MapSchema map:
                Nested(text, path + ".<name>", map.Values);
                break;
            case ListSchema list:
                Nested(text, path + "[]", list.Items);
                break;
        }
    }

    private static string Shape(SchemaNode node) => node switch
    {
        ObjectSchema => "object",
        MapSchema { KeyValues.IsDefault: false } map => $"map ({string.Join(", ", map.KeyValues)}) of {Shape(map.Values)}",
        MapSchema map => $"map of {Shape(map.Values)}",
        ListSchema list => $"list of {Shape(list.Items)}",
        ScalarSchema { Kind: ScalarKind.Enum } scalar => string.Join(" \\| ", scalar.Values.Select(v => $"`{v}`")),
        ScalarSchema { Kind: ScalarKind.WholeNumber } scalar => "whole number" + Bounds(scalar),
        ScalarSchema scalar => scalar.Kind switch
        {
            ScalarKind.Boolean => "true/false",
            ScalarKind.Duration => "duration (30s, 5m, 1h30m, 2d)",
            ScalarKind.TimeOfDay => "time HH:MM",
            ScalarKind.Date => "date YYYY-MM-DD",
            _ => "text",
        },
        _ => node.GetType().Name,
    };

    private static string Bounds(ScalarSchema scalar) => (scalar.Minimum, scalar.Maximum) switch
    {
        ({ } min, { } max) => $" {min}–{max}",
        ({ } min, null) => $" ≥ {min}",
        (null, { } max) => $" ≤ {max}",
        _ => string.Empty,
    };

    private static string Cell(string value) => value.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
