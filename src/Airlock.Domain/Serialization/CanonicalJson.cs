using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Airlock.Domain.Serialization;

/// <summary>
/// Canonical JSON (object keys sorted by ordinal UTF-16 order, no insignificant whitespace,
/// strings escaped minimally) so the same value always hashes the same. Digests of plans,
/// summaries, policy results and evidence records are all computed over this form.
/// </summary>
public static class CanonicalJson
{
    /// <summary>The writer settings of the canonical form (for callers streaming it with <see cref="Write(Utf8JsonWriter, JsonNode?)"/>).</summary>
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Serializes <paramref name="node"/> canonically to UTF-8 bytes.</summary>
    public static byte[] ToUtf8Bytes(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, node);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes <paramref name="element"/> canonically to UTF-8 bytes.</summary>
    public static byte[] ToUtf8Bytes(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, element);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Canonical form as a string.</summary>
    public static string ToCanonicalString(JsonNode? node) => System.Text.Encoding.UTF8.GetString(ToUtf8Bytes(node));

    /// <summary>"sha256:" + lowercase hex of the canonical form (hashed as it is written: a plan's policy input can be tens of MB).</summary>
    public static string Sha256Digest(JsonNode? node) => Sha256Digest(writer => Write(writer, node));

    /// <summary>"sha256:" + lowercase hex of the canonical form.</summary>
    public static string Sha256Digest(JsonElement element) => Sha256Digest(writer => Write(writer, element));

    /// <summary>"sha256:" + lowercase hex of what <paramref name="write"/> writes with the canonical writer settings, hashed as it goes.</summary>
    internal static string Sha256Digest(Action<Utf8JsonWriter> write)
    {
        using var hash = new HashingBufferWriter();
        using (var writer = new Utf8JsonWriter(hash, WriterOptions))
        {
            write(writer);
        }

        return hash.Digest();
    }

    /// <summary>Writes <paramref name="node"/> canonically (keys sorted) into <paramref name="writer"/>.</summary>
    internal static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValue value when value.TryGetValue<JsonElement>(out var element):
                Write(writer, element);
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
