using System.Text;
using System.Text.Json;

namespace Airlock.Domain.Config;

/// <summary>Renders <see cref="ConfigSchema"/> as a JSON Schema (draft 2020-12) for editors.</summary>
public static class ConfigJsonSchema
{
    /// <summary>The id the schema declares; editors match it by file name, not by fetching it.</summary>
    public const string SchemaId = "https://airlock.dev/schemas/airlock.schema.json";

    /// <summary>The schema as indented JSON text with '\n' line endings and a final newline.</summary>
    public static string Generate()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("$schema", "https://json-schema.org/draft/2020-12/schema");
            writer.WriteString("$id", SchemaId);
            writer.WriteString("title", "airlock.yaml");
            WriteBody(writer, ConfigSchema.Root, null);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Write(Utf8JsonWriter writer, SchemaNode node, string? @default)
    {
        writer.WriteStartObject();
        WriteBody(writer, node, @default);
        writer.WriteEndObject();
    }

    private static void WriteBody(Utf8JsonWriter writer, SchemaNode node, string? @default)
    {
        writer.WriteString("description", @default is null ? node.Description : $"{node.Description} Default: {@default}.");
        switch (node)
        {
            case ObjectSchema obj:
                writer.WriteString("type", "object");
                writer.WriteStartObject("properties");
                foreach (var property in obj.Properties)
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Schema, property.Default);
                }

                writer.WriteEndObject();
                var required = obj.Properties.Where(p => p.Required).Select(p => p.Name).ToList();
                if (required.Count > 0)
                {
                    writer.WriteStartArray("required");
                    required.ForEach(writer.WriteStringValue);
                    writer.WriteEndArray();
                }

                if (obj.ExactlyOneOf)
                {
                    writer.WriteNumber("minProperties", 1);
                    writer.WriteNumber("maxProperties", 1);
                }

                writer.WriteBoolean("additionalProperties", false);
                break;
            case MapSchema map:
                writer.WriteString("type", "object");
                if (!map.KeyValues.IsDefault)
                {
                    writer.WriteStartObject("propertyNames");
                    writer.WriteStartArray("enum");
                    foreach (var key in map.KeyValues)
                    {
                        writer.WriteStringValue(key);
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WritePropertyName("additionalProperties");
                Write(writer, map.Values, null);
                break;
            case ListSchema list:
                writer.WriteString("type", "array");
                writer.WritePropertyName("items");
                Write(writer, list.Items, null);
                break;
            case ScalarSchema scalar:
                WriteScalar(writer, scalar);
                break;
            default:
                throw new InvalidOperationException($"unhandled schema node {node.GetType().Name}");
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, ScalarSchema scalar)
    {
        switch (scalar.Kind)
        {
            case ScalarKind.WholeNumber:
                writer.WriteString("type", "integer");
                if (scalar.Minimum is { } min)
                {
                    writer.WriteNumber("minimum", min);
                }

                if (scalar.Maximum is { } max)
                {
                    writer.WriteNumber("maximum", max);
                }

                break;
            case ScalarKind.Boolean:
                writer.WriteString("type", "boolean");
                break;
            case ScalarKind.Duration:
                writer.WriteString("type", "string");
                writer.WriteString("pattern", "^(?=[0-9])([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$");
                break;
            case ScalarKind.TimeOfDay:
                writer.WriteString("type", "string");
                writer.WriteString("pattern", "^(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)$");
                break;
            case ScalarKind.Date:
                writer.WriteString("type", "string");
                writer.WriteString("format", "date");
                break;
            case ScalarKind.Enum:
                writer.WriteString("type", "string");
                writer.WriteStartArray("enum");
                foreach (var value in scalar.Values)
                {
                    writer.WriteStringValue(value);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteString("type", "string");
                break;
        }
    }
}
