using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

using Airlock.Domain.Serialization;

namespace Airlock.Domain.Evidence;

/// <summary>The one JSON shape of evidence payloads: snake_case, strict (unknown members rejected, required members enforced).</summary>
public static class EvidenceJson
{
    /// <summary>Serializer options for packets and run events.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The packet as canonical JSON, ready to be a chain record payload.</summary>
    public static string ToCanonicalPayload<T>(T value) => CanonicalJson.ToCanonicalString(JsonSerializer.SerializeToNode(value, Options));

    /// <summary>Reads a packet back from a record payload.</summary>
    public static EvidencePacket ReadPacket(string payload) =>
        JsonSerializer.Deserialize<EvidencePacket>(payload, Options) ?? throw new JsonException("evidence packet payload is null");

    /// <summary>Reads a run event back from a record payload.</summary>
    public static RunEvent ReadRunEvent(string payload) =>
        JsonSerializer.Deserialize<RunEvent>(payload, Options) ?? throw new JsonException("run event payload is null");

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }
}

/// <summary>Generates the evidence packet JSON schema from the model, so docs/evidence.schema.json is never hand-edited.</summary>
public static class EvidenceSchema
{
    /// <summary>The schema's identifier; carries the same version as <see cref="EvidencePacket.CurrentSchemaVersion"/>.</summary>
    public const string SchemaId = "https://airlock.invalid/schemas/" + EvidencePacket.CurrentSchemaVersion + ".schema.json";

    /// <summary>The JSON schema (draft 2020-12) of <see cref="EvidencePacket"/>.</summary>
    public static JsonObject Generate()
    {
        var exporterOptions = new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) =>
            {
                if (node is JsonObject obj && context.PropertyInfo is null && context.TypeInfo.Kind == JsonTypeInfoKind.Object)
                {
                    // Every object type is closed: an unknown member is a schema change, not a silent addition.
                    obj["additionalProperties"] = false;
                }

                if (node is JsonObject property && context.PropertyInfo?.Name == "schema_version" && context.PropertyInfo.DeclaringType == typeof(EvidencePacket))
                {
                    property["const"] = EvidencePacket.CurrentSchemaVersion;
                }

                return node;
            },
        };
        var schema = (JsonObject)EvidenceJson.Options.GetJsonSchemaAsNode(typeof(EvidencePacket), exporterOptions);
        var result = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = SchemaId,
            ["title"] = "Airlock evidence packet",
            ["description"] = "The evidence of one run attempt. Generated from Airlock.Domain.Evidence.EvidencePacket; do not edit by hand.",
        };
        foreach (var (key, value) in schema.ToList())
        {
            schema.Remove(key);
            result[key] = value;
        }

        return result;
    }

    /// <summary>The schema as the indented text stored in docs/evidence.schema.json.</summary>
    public static string GenerateText() =>
        Generate().ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
}
