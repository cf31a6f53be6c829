using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Failures;

namespace Airlock.Engines.Pulumi;

/// <summary>
/// Reads a Pulumi engine event log (JSON Lines of apitype.EngineEvent, as written by
/// --event-log): planned steps, what completed or failed, and error diagnostics.
/// </summary>
public sealed class PulumiEventLog
{
    private static readonly HashSet<string> NoChangeOps = new(StringComparer.Ordinal) { "same", "read", "refresh", "discard-replaced", "remove-pending-replace" };

    private readonly List<string> _outputOps;

    private PulumiEventLog(List<(string Urn, string Type, string Op, JsonNode? Old, JsonNode? New)> steps, List<string> outputOps, ChangeCounts counts, string diagnostics)
    {
        Steps = steps;
        _outputOps = outputOps;
        Counts = counts;
        Diagnostics = diagnostics;
    }

    /// <summary>Each resourcePreEvent in order.</summary>
    public IReadOnlyList<(string Urn, string Type, string Op, JsonNode? Old, JsonNode? New)> Steps { get; }

    /// <summary>Completed (resOutputsEvent) and failed (resOpFailedEvent) operations.</summary>
    public ChangeCounts Counts { get; }

    /// <summary>Messages of error diagnostics, one per line, for the classifier.</summary>
    public string Diagnostics { get; }

    /// <summary>
    /// True when any step would change a resource. A refresh announces every resource as
    /// "refresh" and reports what it found in the outputs event (update, delete), so both count.
    /// </summary>
    public bool HasChanges => Steps.Any(s => !NoChangeOps.Contains(s.Op)) || _outputOps.Any(op => !NoChangeOps.Contains(op));

    /// <summary>Reads an event log file; a missing file reads as empty.</summary>
    public static PulumiEventLog Read(string path)
    {
        var steps = new List<(string, string, string, JsonNode?, JsonNode?)>();
        var outputOps = new List<string>();
        int created = 0, updated = 0, deleted = 0, createFailed = 0, updateFailed = 0, deleteFailed = 0;
        var diagnostics = new StringBuilder();
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                JsonNode? e;
                try
                {
                    e = JsonNode.Parse(line);
                }
                catch (JsonException)
                {
                    continue; // a torn last line of an interrupted run
                }

                if (e?["resourcePreEvent"]?["metadata"] is { } pre)
                {
                    steps.Add(((string?)pre["urn"] ?? string.Empty, (string?)pre["type"] ?? string.Empty, (string?)pre["op"] ?? string.Empty, pre["old"], pre["new"]));
                }
                else if ((string?)e?["resOutputsEvent"]?["metadata"]?["op"] is { } done)
                {
                    outputOps.Add(done);
                    switch (done)
                    {
                        case "create" or "create-replacement" or "import" or "import-replacement": created++; break;
                        case "update": updated++; break;
                        case "delete" or "delete-replaced": deleted++; break;
                    }
                }
                else if ((string?)e?["resOpFailedEvent"]?["metadata"]?["op"] is { } failed)
                {
                    switch (failed)
                    {
                        case "create" or "create-replacement": createFailed++; break;
                        case "update": updateFailed++; break;
                        default: deleteFailed++; break;
                    }
                }
                else if (e?["diagnosticEvent"] is { } diag && (string?)diag["severity"] == "error")
                {
                    diagnostics.AppendLine(((string?)diag["message"] ?? string.Empty).Replace("<{%reset%}>", string.Empty, StringComparison.Ordinal).Trim());
                }
            }
        }

        return new PulumiEventLog(steps, outputOps, new ChangeCounts(created, updated, deleted, createFailed, updateFailed, deleteFailed), diagnostics.ToString());
    }

    /// <summary>
    /// The planned steps as Terraform-format plan JSON (format_version + resource_changes), so the
    /// one plan summary parser serves Pulumi too. Address is the URN; a replacement is
    /// ["create","delete"] (Pulumi's default create-before-delete) or ["delete","create"] when the
    /// old resource was deleted first.
    /// </summary>
    public JsonObject ToTerraformPlanJson()
    {
        var order = new List<string>();
        var byUrn = new Dictionary<string, List<(string Urn, string Type, string Op, JsonNode? Old, JsonNode? New)>>(StringComparer.Ordinal);
        foreach (var step in Steps)
        {
            if (!byUrn.TryGetValue(step.Urn, out var list))
            {
                byUrn[step.Urn] = list = [];
                order.Add(step.Urn);
            }

            list.Add(step);
        }

        var changes = new JsonArray();
        foreach (var urn in order)
        {
            var ops = byUrn[urn].Select(s => s.Op).ToList();
            if (ops.All(o => o == "refresh"))
            {
                continue;
            }

            var first = byUrn[urn][0];
            var actions = Actions(ops);
            changes.Add(new JsonObject
            {
                ["address"] = urn,
                ["mode"] = "managed",
                ["type"] = first.Type,
                ["name"] = urn[(urn.LastIndexOf("::", StringComparison.Ordinal) + 2)..],
                ["provider_name"] = "pulumi",
                ["change"] = new JsonObject
                {
                    ["actions"] = new JsonArray(actions.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
                    ["before"] = actions.SequenceEqual(["create"]) ? null : (first.Old?["outputs"] ?? first.Old?["inputs"])?.DeepClone(),
                    ["after"] = actions.SequenceEqual(["delete"]) ? null : byUrn[urn][^1].New?["inputs"]?.DeepClone(),
                },
            });
        }

        return new JsonObject
        {
            ["format_version"] = "1.2",
            ["airlock_source"] = "pulumi engine events",
            ["resource_changes"] = changes,
        };
    }

    private static string[] Actions(List<string> ops)
    {
        var createIndex = ops.FindIndex(o => o is "create-replacement" or "import-replacement");
        var deleteIndex = ops.IndexOf("delete-replaced");
        if (ops.Contains("replace") || createIndex >= 0 || deleteIndex >= 0)
        {
            return deleteIndex >= 0 && (createIndex < 0 || deleteIndex < createIndex) ? ["delete", "create"] : ["create", "delete"];
        }

        return ops[0] switch
        {
            "create" => ["create"],
            "update" => ["update"],
            "delete" => ["delete"],
            "read" => ["read"],
            _ => ["no-op"],
        };
    }
}
