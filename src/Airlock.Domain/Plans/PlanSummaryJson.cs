using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Serialization;

namespace Airlock.Domain.Plans;

/// <summary>
/// The stable JSON form of a <see cref="PlanSummary"/> (what `airlock summarize --format json`
/// prints, and what approvals bind to) and its digest.
/// </summary>
public static class PlanSummaryJson
{
    /// <summary>Marks a document as an Airlock plan summary; bumped on breaking changes.</summary>
    public const string Schema = "airlock.plan-summary/1";

    /// <summary>
    /// Digest of the semantic content: canonical JSON of the summary without the digest, the
    /// artifact digest and tool/format versions, so that the same changes hash the same whatever
    /// bytes or tool version produced them.
    /// </summary>
    /// <remarks>
    /// Streamed into the hash item by item: the same bytes as the canonical form of the whole
    /// node tree, without holding that tree (a 137k-resource summary as nodes is hundreds of MB).
    /// </remarks>
    public static string Digest(PlanSummary summary) => CanonicalJson.Sha256Digest(writer => WriteSemantic(writer, summary, canonical: true));

    /// <summary>
    /// Writes what <see cref="ToJson"/> builds (byte-identical to its <c>ToJsonString</c> with the
    /// same writer options) one item at a time, so memory stays at the summary itself.
    /// </summary>
    public static void WriteJson(PlanSummary summary, Stream output, JsonWriterOptions options)
    {
        var digest = Digest(summary);
        using var writer = new Utf8JsonWriter(output, options);
        writer.WriteStartObject();
        var header = Header(summary, digest);
        foreach (var (key, value) in header)
        {
            // engine and errored are also semantic keys: ToJson keeps them at their header position.
            WriteProperty(writer, key, value, canonical: false);
        }

        WriteSemantic(writer, summary, canonical: false, skipHeaderKeys: true);
        writer.WriteEndObject();
    }

    /// <summary>The full JSON document, including the digest.</summary>
    public static JsonObject ToJson(PlanSummary summary)
    {
        var node = Header(summary, Digest(summary));
        foreach (var (key, value) in SemanticNode(summary))
        {
            node[key] = value?.DeepClone();
        }

        return node;
    }

    // The document's leading keys, in order: shared by the streamed and the node form so both stay byte-identical.
    private static JsonObject Header(PlanSummary summary, string digest) => new()
    {
        ["schema"] = Schema,
        ["engine"] = summary.Engine,
        ["format_version"] = summary.FormatVersion,
        ["tool_version"] = summary.ToolVersion,
        ["errored"] = summary.Errored,
        ["has_changes"] = summary.HasChanges,
        ["digest"] = digest,
        ["artifact_digest"] = summary.ArtifactDigest,
    };

    private static JsonObject SemanticNode(PlanSummary summary)
    {
        var node = new JsonObject
        {
            ["engine"] = summary.Engine,
            ["errored"] = summary.Errored,
            ["counts"] = CountsNode(summary.Counts),
            ["resources"] = new JsonArray([.. summary.Resources.Select(r => (JsonNode)ResourceNode(r))]),
            ["risks"] = new JsonArray([.. summary.Risks.Select(r => (JsonNode)RiskNode(r))]),
            ["drift"] = new JsonArray([.. summary.Drift.Select(d => (JsonNode)DriftNode(d))]),
            ["outputs"] = new JsonArray([.. summary.Outputs.Select(o => (JsonNode)OutputNode(o))]),
        };
        if (summary.Target is { } target)
        {
            node["target"] = TargetNode(target);
        }

        return node;
    }

    // The keys of SemanticNode in its order; the canonical form sorts them (ordinal).
    private static readonly string[] SemanticKeys = ["engine", "errored", "counts", "resources", "risks", "drift", "outputs", "target"];
    private static readonly string[] SortedSemanticKeys = [.. SemanticKeys.Order(StringComparer.Ordinal)];

    // SemanticNode written section by section; each array item is built as its own small node and
    // written at once, so only one item's nodes are alive at a time.
    private static void WriteSemantic(Utf8JsonWriter writer, PlanSummary summary, bool canonical, bool skipHeaderKeys = false)
    {
        if (!skipHeaderKeys)
        {
            writer.WriteStartObject();
        }

        foreach (var key in canonical ? SortedSemanticKeys : SemanticKeys)
        {
            switch (key)
            {
                case "engine" when !skipHeaderKeys:
                    WriteProperty(writer, key, summary.Engine, canonical);
                    break;
                case "errored" when !skipHeaderKeys:
                    WriteProperty(writer, key, summary.Errored, canonical);
                    break;
                case "counts":
                    WriteProperty(writer, key, CountsNode(summary.Counts), canonical);
                    break;
                case "resources":
                    WriteArray(writer, key, summary.Resources, WriteResource, canonical);
                    break;
                case "risks":
                    WriteArray(writer, key, summary.Risks, WriteRisk, canonical);
                    break;
                case "drift":
                    WriteArray(writer, key, summary.Drift, DriftNode, canonical);
                    break;
                case "outputs":
                    WriteArray(writer, key, summary.Outputs, OutputNode, canonical);
                    break;
                case "target" when summary.Target is { } target:
                    WriteProperty(writer, key, TargetNode(target), canonical);
                    break;
            }
        }

        if (!skipHeaderKeys)
        {
            writer.WriteEndObject();
        }
    }

    private static void WriteArray<T>(Utf8JsonWriter writer, string key, IEnumerable<T> items, Func<T, JsonNode> node, bool canonical) =>
        WriteArray(writer, key, items, (w, item, c) => WriteValue(w, node(item), c), canonical);

    private static void WriteArray<T>(Utf8JsonWriter writer, string key, IEnumerable<T> items, Action<Utf8JsonWriter, T, bool> write, bool canonical)
    {
        writer.WritePropertyName(key);
        writer.WriteStartArray();
        foreach (var item in items)
        {
            write(writer, item, canonical);
            if (writer.BytesPending > FlushBytes)
            {
                // Bound the writer's own buffer: it grows until flushed.
                writer.Flush();
            }
        }

        writer.WriteEndArray();
    }

    private const int FlushBytes = 64 * 1024;

    private static void WriteProperty(Utf8JsonWriter writer, string key, JsonNode? value, bool canonical)
    {
        writer.WritePropertyName(key);
        WriteValue(writer, value, canonical);
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonNode? value, bool canonical)
    {
        if (canonical)
        {
            CanonicalJson.Write(writer, value);
        }
        else if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            value.WriteTo(writer);
        }
    }

    private static JsonObject CountsNode(PlanCounts counts) =>
        new(PlanActionNames.All.OrderBy(a => (int)a).Select(a => KeyValuePair.Create(a.ToCountKey(), (JsonNode?)counts[a])));

    // Resources and risks, the bulk of a summary, are defined once, by their writers below; their
    // node form is what the writer writes.
    private static JsonObject RiskNode(RiskFinding r) => ItemNode(r, WriteRisk);

    private static JsonObject ResourceNode(ResourceChange r) => ItemNode(r, WriteResource);

    private static JsonObject ItemNode<T>(T item, Action<Utf8JsonWriter, T, bool> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, CanonicalJson.WriterOptions))
        {
            write(writer, item, false);
        }

        return JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
    }

    private static JsonObject DriftNode(DriftEntry d) => new()
    {
        ["address"] = d.Address,
        ["type"] = d.Type,
        ["action"] = d.Action.ToWire(),
        ["changed_paths"] = Strings(d.ChangedPaths),
    };

    private static JsonObject OutputNode(OutputChange o) => new()
    {
        ["name"] = o.Name,
        ["action"] = o.Action.ToWire(),
        ["sensitive"] = o.Sensitive,
        ["unknown"] = o.Unknown,
        ["value"] = o.DisplayValue,
    };

    private static JsonObject TargetNode(PlanTarget target) => new() { ["account"] = target.Account, ["region"] = target.Region, ["environment"] = target.Environment };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);

    // A resource and a risk written straight to the writer, in document order or (canonical) sorted:
    // no node tree per item when streaming (building and sorting those was half of
    // `summarize --format json` on a 137k-resource plan). SummaryJsonStreamingTests holds the
    // streamed document and digest to the node tree's bytes.
    private enum ResourceField
    {
        Address,
        Type,
        Action,
        Mode,
        Provider,
        Module,
        ReplaceOrder,
        PreviousAddress,
        Importing,
        Deposed,
        ReplacePaths,
        ActionReason,
        TagOnly,
        ChangedPaths,
    }

    private static readonly JsonEncodedText[] ResourceKeys =
    [
        .. ((string[])["address", "type", "action", "mode", "provider", "module", "replace_order", "previous_address", "importing", "deposed", "replace_paths", "action_reason", "tag_only", "changed_paths"])
            .Select(k => JsonEncodedText.Encode(k)),
    ];

    private static readonly ResourceField[] ResourceOrder = Enum.GetValues<ResourceField>();
    private static readonly ResourceField[] CanonicalResourceOrder = [.. ResourceOrder.OrderBy(f => ResourceKeys[(int)f].Value, StringComparer.Ordinal)];

    private static void WriteResource(Utf8JsonWriter writer, ResourceChange r, bool canonical)
    {
        writer.WriteStartObject();
        foreach (var field in canonical ? CanonicalResourceOrder : ResourceOrder)
        {
            var key = ResourceKeys[(int)field];
            switch (field)
            {
                case ResourceField.Address:
                    writer.WriteString(key, r.Address);
                    break;
                case ResourceField.Type:
                    writer.WriteString(key, r.Type);
                    break;
                case ResourceField.Action:
                    writer.WriteString(key, r.Action.ToWire());
                    break;
                case ResourceField.Mode:
                    writer.WriteString(key, r.Mode == ResourceMode.Data ? "data" : "managed");
                    break;
                case ResourceField.Provider:
                    writer.WriteString(key, r.Provider);
                    break;
                case ResourceField.Module:
                    writer.WriteString(key, r.Module);
                    break;
                case ResourceField.ReplaceOrder when r.ReplaceOrder is { } order:
                    writer.WriteString(key, order == ReplaceOrder.CreateBeforeDestroy ? "create_before_destroy" : "delete_before_create");
                    break;
                case ResourceField.PreviousAddress when r.PreviousAddress is not null:
                    writer.WriteString(key, r.PreviousAddress);
                    break;
                case ResourceField.Importing when r.Importing is { } importing:
                    // "id" sorts before "identity": one order for both forms.
                    writer.WriteStartObject(key);
                    writer.WriteString("id", importing.Id);
                    writer.WriteString("identity", importing.IdentityJson);
                    writer.WriteEndObject();
                    break;
                case ResourceField.Deposed when r.Deposed is not null:
                    writer.WriteString(key, r.Deposed);
                    break;
                case ResourceField.ReplacePaths when r.ReplacePaths.Count > 0:
                    WriteStrings(writer, key, r.ReplacePaths);
                    break;
                case ResourceField.ActionReason when r.ActionReason is not null:
                    writer.WriteString(key, r.ActionReason);
                    break;
                case ResourceField.TagOnly when r.TagOnly:
                    writer.WriteBoolean(key, true);
                    break;
                case ResourceField.ChangedPaths when r.ChangedPaths.Count > 0:
                    WriteStrings(writer, key, r.ChangedPaths);
                    break;
            }
        }

        writer.WriteEndObject();
    }

    // A risk's keys are kind, address, detail; sorted: address, detail, kind.
    private static void WriteRisk(Utf8JsonWriter writer, RiskFinding risk, bool canonical)
    {
        writer.WriteStartObject();
        if (!canonical)
        {
            writer.WriteString("kind", risk.Kind);
        }

        writer.WriteString("address", risk.Address);
        writer.WriteString("detail", risk.Detail);
        if (canonical)
        {
            writer.WriteString("kind", risk.Kind);
        }

        writer.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter writer, JsonEncodedText key, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(key);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    /// <summary>Reads a summary document back (for `compare` against a stored approved summary).</summary>
    internal static PlanSummary Read(Stream stream)
    {
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        return new PlanSummary
        {
            Engine = Str(root, "engine") ?? "terraform",
            FormatVersion = Str(root, "format_version"),
            ToolVersion = Str(root, "tool_version"),
            Errored = root.TryGetProperty("errored", out var e) && e.ValueKind == JsonValueKind.True,
            ArtifactDigest = Str(root, "artifact_digest"),
            Resources = [.. Array(root, "resources").Select(r => new ResourceChange
            {
                Address = Str(r, "address") ?? "",
                Type = Str(r, "type") ?? "",
                Action = PlanActionNames.FromWire(Str(r, "action")) ?? throw new PlanParseException(PlanErrorKind.NotAPlan, $"unknown action \"{Str(r, "action")}\" in summary", 1, 1),
                Mode = Str(r, "mode") == "data" ? ResourceMode.Data : ResourceMode.Managed,
                Provider = Str(r, "provider"),
                Module = Str(r, "module"),
                ReplaceOrder = Str(r, "replace_order") switch
                {
                    "create_before_destroy" => ReplaceOrder.CreateBeforeDestroy,
                    "delete_before_create" => ReplaceOrder.DeleteBeforeCreate,
                    _ => null,
                },
                PreviousAddress = Str(r, "previous_address"),
                Importing = r.TryGetProperty("importing", out var i) && i.ValueKind == JsonValueKind.Object ? new ImportingInfo(Str(i, "id"), Str(i, "identity")) : null,
                Deposed = Str(r, "deposed"),
                ReplacePaths = StringList(r, "replace_paths"),
                ActionReason = Str(r, "action_reason"),
                TagOnly = r.TryGetProperty("tag_only", out var t) && t.ValueKind == JsonValueKind.True,
                ChangedPaths = StringList(r, "changed_paths"),
            })],
            Risks = [.. Array(root, "risks").Select(r => new RiskFinding(Str(r, "kind") ?? "", Str(r, "address") ?? "", Str(r, "detail") ?? ""))],
            Drift = [.. Array(root, "drift").Select(d => new DriftEntry(Str(d, "address") ?? "", Str(d, "type") ?? "", PlanActionNames.FromWire(Str(d, "action")) ?? PlanAction.NoOp, StringList(d, "changed_paths")))],
            Outputs = [.. Array(root, "outputs").Select(o => new OutputChange(
                Str(o, "name") ?? "",
                PlanActionNames.FromWire(Str(o, "action")) ?? PlanAction.NoOp,
                o.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True,
                o.TryGetProperty("unknown", out var u) && u.ValueKind == JsonValueKind.True,
                Str(o, "value")))],
            Target = root.TryGetProperty("target", out var target) && target.ValueKind == JsonValueKind.Object
                ? new PlanTarget(Str(target, "account"), Str(target, "region"), Str(target, "environment"))
                : null,
        };
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static List<JsonElement> Array(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray()] : [];

    private static List<string> StringList(JsonElement obj, string name) => [.. Array(obj, name).Select(e => e.GetString() ?? "")];
}
