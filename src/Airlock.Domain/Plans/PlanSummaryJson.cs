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
    public static string Digest(PlanSummary summary) => CanonicalJson.Sha256Digest(SemanticNode(summary));

    /// <summary>The full JSON document, including the digest.</summary>
    public static JsonObject ToJson(PlanSummary summary)
    {
        var node = new JsonObject
        {
            ["schema"] = Schema,
            ["engine"] = summary.Engine,
            ["format_version"] = summary.FormatVersion,
            ["tool_version"] = summary.ToolVersion,
            ["errored"] = summary.Errored,
            ["has_changes"] = summary.HasChanges,
            ["digest"] = Digest(summary),
            ["artifact_digest"] = summary.ArtifactDigest,
        };
        foreach (var (key, value) in SemanticNode(summary))
        {
            node[key] = value?.DeepClone();
        }

        return node;
    }

    private static JsonObject SemanticNode(PlanSummary summary)
    {
        var counts = summary.Counts;
        var node = new JsonObject
        {
            ["engine"] = summary.Engine,
            ["errored"] = summary.Errored,
            ["counts"] = new JsonObject(PlanActionNames.All.OrderBy(a => (int)a).Select(a => KeyValuePair.Create(a.ToCountKey(), (JsonNode?)counts[a]))),
            ["resources"] = new JsonArray([.. summary.Resources.Select(ResourceNode)]),
            ["risks"] = new JsonArray([.. summary.Risks.Select(r => (JsonNode)new JsonObject { ["kind"] = r.Kind, ["address"] = r.Address, ["detail"] = r.Detail })]),
            ["drift"] = new JsonArray([.. summary.Drift.Select(d => (JsonNode)new JsonObject
            {
                ["address"] = d.Address,
                ["type"] = d.Type,
                ["action"] = d.Action.ToWire(),
                ["changed_paths"] = Strings(d.ChangedPaths),
            })]),
            ["outputs"] = new JsonArray([.. summary.Outputs.Select(o => (JsonNode)new JsonObject
            {
                ["name"] = o.Name,
                ["action"] = o.Action.ToWire(),
                ["sensitive"] = o.Sensitive,
                ["unknown"] = o.Unknown,
                ["value"] = o.DisplayValue,
            })]),
        };
        if (summary.Target is { } target)
        {
            node["target"] = new JsonObject { ["account"] = target.Account, ["region"] = target.Region, ["environment"] = target.Environment };
        }

        return node;
    }

    private static JsonObject ResourceNode(ResourceChange r)
    {
        var node = new JsonObject
        {
            ["address"] = r.Address,
            ["type"] = r.Type,
            ["action"] = r.Action.ToWire(),
            ["mode"] = r.Mode == ResourceMode.Data ? "data" : "managed",
            ["provider"] = r.Provider,
            ["module"] = r.Module,
        };
        if (r.ReplaceOrder is { } order)
        {
            node["replace_order"] = order == ReplaceOrder.CreateBeforeDestroy ? "create_before_destroy" : "delete_before_create";
        }

        if (r.PreviousAddress is not null)
        {
            node["previous_address"] = r.PreviousAddress;
        }

        if (r.Importing is { } importing)
        {
            node["importing"] = new JsonObject { ["id"] = importing.Id, ["identity"] = importing.IdentityJson };
        }

        if (r.Deposed is not null)
        {
            node["deposed"] = r.Deposed;
        }

        if (r.ReplacePaths.Count > 0)
        {
            node["replace_paths"] = Strings(r.ReplacePaths);
        }

        if (r.ActionReason is not null)
        {
            node["action_reason"] = r.ActionReason;
        }

        if (r.TagOnly)
        {
            node["tag_only"] = true;
        }

        if (r.ChangedPaths.Count > 0)
        {
            node["changed_paths"] = Strings(r.ChangedPaths);
        }

        return node;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);

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
