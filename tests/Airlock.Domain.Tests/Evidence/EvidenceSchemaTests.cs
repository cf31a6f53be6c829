using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Evidence;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Evidence;

public class EvidenceSchemaTests
{
    private static string SchemaPath => Path.Combine(RepoPaths.RepoRoot, "docs", "evidence.schema.json");

    [Fact]
    public void Docs_schema_is_the_one_generated_from_the_model()
    {
        // If this fails after a model change: regenerate with `airlock evidence schema > docs/evidence.schema.json`
        // and bump EvidencePacket.CurrentSchemaVersion when the change is incompatible.
        Assert.Equal(EvidenceSchema.GenerateText(), File.ReadAllText(SchemaPath));
    }

    [Fact]
    public void Schema_carries_its_version()
    {
        var schema = JsonNode.Parse(File.ReadAllText(SchemaPath))!;

        Assert.Equal(EvidenceSchema.SchemaId, (string?)schema["$id"]);
        Assert.Contains("v1", EvidenceSchema.SchemaId, StringComparison.Ordinal);
        Assert.Equal(EvidencePacket.CurrentSchemaVersion, (string?)schema["properties"]!["schema_version"]!["const"]);
        Assert.False((bool)schema["additionalProperties"]!);
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public void Produced_packets_validate_against_the_schema(string name, EvidencePacket packet)
    {
        var schema = JsonNode.Parse(File.ReadAllText(SchemaPath))!;
        var instance = JsonNode.Parse(EvidenceJson.ToCanonicalPayload(packet));

        var errors = SchemaCheck.Validate(schema, schema, instance, "$");

        Assert.True(errors.Count == 0, name + ": " + string.Join("; ", errors));
    }

    [Fact]
    public void The_structural_check_catches_a_missing_required_property_and_an_unknown_key()
    {
        var schema = JsonNode.Parse(File.ReadAllText(SchemaPath))!;
        var instance = JsonNode.Parse(EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet()))!.AsObject();
        instance.Remove("result");
        instance["surprise"] = 1;
        instance["target"]!.AsObject().Remove("stack");

        var errors = SchemaCheck.Validate(schema, schema, instance, "$");

        Assert.Contains("$: missing required \"result\"", errors);
        Assert.Contains("$: unknown property \"surprise\"", errors);
        Assert.Contains("$.target: missing required \"stack\"", errors);
    }

    [Fact]
    public void Strict_reading_rejects_unknown_members_and_missing_required_ones()
    {
        var json = JsonNode.Parse(EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet()))!.AsObject();
        json["surprise"] = true;
        Assert.Throws<JsonException>(() => EvidenceJson.ReadPacket(json.ToJsonString()));

        json.Remove("surprise");
        json.Remove("target");
        Assert.Throws<JsonException>(() => EvidenceJson.ReadPacket(json.ToJsonString()));
    }

    [Fact]
    public void Packet_round_trips_through_its_payload()
    {
        var packet = EvidenceSamples.Packet(status: "failed", failureClass: "state_lock", tags: "app:v1.2.0-infra:v0.3.1");

        var back = EvidenceJson.ReadPacket(EvidenceJson.ToCanonicalPayload(packet));

        Assert.Equal(EvidenceJson.ToCanonicalPayload(packet), EvidenceJson.ToCanonicalPayload(back));
        Assert.Equal("state_lock", back.Result.FailureClass);
        Assert.Equal("bob", back.Authorisation.Approvals[0].Approver);
    }

    public static TheoryData<string, EvidencePacket> Packets() => new()
    {
        { "success", EvidenceSamples.Packet() },
        { "failure", EvidenceSamples.Packet(status: "failed", failureClass: "provider_throttled") },
        { "nulls", EvidenceSamples.Packet() with { Plan = null, Policy = null, StateSerial = new EvidenceStateSerials(null, null), Source = new EvidenceSource("r", "c", null, null) } },
        {
            "break-glass", EvidenceSamples.Packet() with
            {
                Authorisation = new EvidenceAuthorisation("carol", [], null, new EvidenceBreakGlass("carol", "INC-42 outage", EvidenceSamples.T0, EvidenceSamples.T0.AddHours(1))),
            }
        },
    };

    /// <summary>A small structural JSON Schema check: type, properties, required, additionalProperties, items, const, $ref.</summary>
    private static class SchemaCheck
    {
        public static List<string> Validate(JsonNode root, JsonNode schema, JsonNode? instance, string path)
        {
            var errors = new List<string>();
            if (schema is JsonValue boolean && boolean.TryGetValue<bool>(out var allowed))
            {
                if (!allowed)
                {
                    errors.Add($"{path}: not allowed");
                }

                return errors;
            }

            if (schema["$ref"] is { } reference)
            {
                var target = root;
                foreach (var part in ((string)reference!).TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
                {
                    target = target![part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
                }

                return Validate(root, target!, instance, path);
            }

            if (schema["type"] is { } type)
            {
                var types = type is JsonArray array ? array.Select(t => (string)t!).ToList() : [(string)type!];
                var actual = KindOf(instance);
                if (!types.Contains(actual) && !(actual == "integer" && types.Contains("number")))
                {
                    errors.Add($"{path}: expected {string.Join("|", types)}, got {actual}");
                    return errors;
                }
            }

            if (schema["const"] is { } constant && !JsonNode.DeepEquals(constant, instance))
            {
                errors.Add($"{path}: expected const {constant.ToJsonString()}");
            }

            if (instance is JsonObject obj)
            {
                var properties = schema["properties"]?.AsObject();
                foreach (var required in schema["required"]?.AsArray() ?? [])
                {
                    if (!obj.ContainsKey((string)required!))
                    {
                        errors.Add($"{path}: missing required \"{required}\"");
                    }
                }

                foreach (var (key, value) in obj)
                {
                    if (properties?[key] is { } propertySchema)
                    {
                        errors.AddRange(Validate(root, propertySchema, value, $"{path}.{key}"));
                    }
                    else if (schema["additionalProperties"] is { } additional)
                    {
                        if (additional is JsonValue v && v.TryGetValue<bool>(out var open) && !open)
                        {
                            errors.Add($"{path}: unknown property \"{key}\"");
                        }
                        else
                        {
                            errors.AddRange(Validate(root, additional, value, $"{path}.{key}"));
                        }
                    }
                }
            }

            if (instance is JsonArray items && schema["items"] is { } itemSchema)
            {
                for (var i = 0; i < items.Count; i++)
                {
                    errors.AddRange(Validate(root, itemSchema, items[i], $"{path}[{i}]"));
                }
            }

            return errors;
        }

        private static string KindOf(JsonNode? node) => node switch
        {
            null => "null",
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => v.ToJsonString().Contains('.', StringComparison.Ordinal) ? "number" : "integer",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                _ => "null",
            },
            _ => "unknown",
        };
    }
}
