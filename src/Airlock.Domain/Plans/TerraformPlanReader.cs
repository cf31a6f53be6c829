using System.Text.Json;

namespace Airlock.Domain.Plans;

/// <summary>
/// Streams `tofu/terraform show -json` output into a <see cref="PlanSummary"/>. Only one
/// resource_change is materialised at a time; prior_state, planned_values and configuration are
/// skipped token by token.
/// </summary>
internal sealed class TerraformPlanReader
{
    private static readonly HashSet<string> PlanMarkers = new(StringComparer.Ordinal)
    {
        "planned_values", "resource_changes", "resource_drift", "output_changes", "prior_state", "errored", "applyable",
    };

    // Shared by every resource without replace paths; never mutated.
    private static readonly List<string> NoPaths = [];

    private readonly StreamingJsonReader _json;
    private readonly ResourceClassMap _classes;
    private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);
    private readonly List<ResourceChange> _resources = [];
    private readonly List<DriftEntry> _drift = [];
    private readonly List<OutputChange> _outputs = [];
    private readonly List<RiskFinding> _risks = [];

    private TerraformPlanReader(StreamingJsonReader json, ResourceClassMap classes)
    {
        _json = json;
        _classes = classes;
    }

    public static PlanSummary Read(Stream stream, ResourceClassMap classes) => new TerraformPlanReader(new StreamingJsonReader(stream), classes).Read();

    private PlanSummary Read()
    {
        if (!_json.Read() || _json.TokenType != JsonTokenType.StartObject)
        {
            var (line, column) = _json.TokenPosition;
            throw new PlanParseException(PlanErrorKind.NotAPlan, "not a plan: expected a JSON object from `show -json`", line, column);
        }

        string? formatVersion = null;
        string? toolVersion = null;
        var errored = false;
        var sawMarker = false;
        while (_json.Read() && _json.TokenType == JsonTokenType.PropertyName)
        {
            var name = _json.Text!;
            sawMarker |= PlanMarkers.Contains(name);
            switch (name)
            {
                case "format_version":
                    _json.Read();
                    formatVersion = _json.Text;
                    CheckVersion(formatVersion);
                    break;
                case "terraform_version":
                    _json.Read();
                    toolVersion = _json.Text;
                    break;
                case "errored":
                    _json.Read();
                    errored = _json.TokenType == JsonTokenType.True;
                    break;
                case "resource_changes":
                    ReadResourceChanges();
                    break;
                case "resource_drift":
                    EachArrayItem(ReadDrift);
                    break;
                case "output_changes":
                    ReadOutputs();
                    break;
                default:
                    _json.Skip();
                    break;
            }
        }

        // Let the reader reject trailing content after the root object.
        _json.Read();
        if (formatVersion is null || !sawMarker)
        {
            throw new PlanParseException(
                PlanErrorKind.NotAPlan,
                formatVersion is null ? "not a plan: no format_version (expected `tofu show -json PLANFILE` output)" : "not a plan: no planned_values/resource_changes (is this `show -json` of a state?)",
                1,
                1);
        }

        return new PlanSummary
        {
            Engine = "terraform",
            FormatVersion = formatVersion,
            ToolVersion = toolVersion,
            Errored = errored,
            Resources = _resources,
            Drift = _drift,
            Outputs = _outputs,
            Risks = _risks,
        };
    }

    private void CheckVersion(string? version)
    {
        var (line, column) = _json.TokenPosition;
        if (_json.TokenType != JsonTokenType.String || version is null)
        {
            throw new PlanParseException(PlanErrorKind.NotAPlan, "not a plan: format_version is not a string", line, column);
        }

        var major = version.Split('.')[0];
        if (major is not ("0" or "1"))
        {
            throw new PlanParseException(PlanErrorKind.UnsupportedVersion, $"unsupported plan format_version \"{version}\" (this build reads 0.x and 1.x)", line, column);
        }
    }

    private void EachArrayItem(Action<JsonElement> handle)
    {
        _json.Read();
        if (_json.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (_json.TokenType != JsonTokenType.StartArray)
        {
            var (line, column) = _json.TokenPosition;
            throw new PlanParseException(PlanErrorKind.NotAPlan, "not a plan: expected an array", line, column);
        }

        while (_json.ReadValueDocument() is { } document)
        {
            using (document)
            {
                handle(document.RootElement);
            }
        }
    }

    private void ReadOutputs()
    {
        _json.Read();
        if (_json.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        while (_json.Read() && _json.TokenType == JsonTokenType.PropertyName)
        {
            var name = _json.Text!;
            using var document = _json.ReadValueDocument();
            if (document is not null)
            {
                _outputs.Add(ToOutput(name, document.RootElement));
            }
        }
    }

    private string Intern(string value)
    {
        if (_interned.TryGetValue(value, out var existing))
        {
            return existing;
        }

        _interned[value] = value;
        return value;
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement? Prop(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private (PlanAction Action, ReplaceOrder? Order) Actions(JsonElement change)
    {
        var names = new List<string>(2);
        if (Prop(change, "actions") is { ValueKind: JsonValueKind.Array } actions)
        {
            foreach (var a in actions.EnumerateArray())
            {
                names.Add(a.GetString() ?? "");
            }
        }

        return Actions(names);
    }

    private (PlanAction Action, ReplaceOrder? Order) Actions(List<string> names)
    {
        return names switch
        {
            ["no-op"] => (PlanAction.NoOp, null),
            ["create"] => (PlanAction.Create, null),
            ["read"] => (PlanAction.Read, null),
            ["update"] => (PlanAction.Update, null),
            ["delete"] => (PlanAction.Delete, null),
            ["forget"] => (PlanAction.Forget, null),
            ["delete", "create"] => (PlanAction.Replace, ReplaceOrder.DeleteBeforeCreate),
            ["create", "delete"] => (PlanAction.Replace, ReplaceOrder.CreateBeforeDestroy),
            _ => throw new PlanParseException(PlanErrorKind.NotAPlan, $"unknown change actions [{string.Join(",", names)}]", _json.TokenPosition.Line, _json.TokenPosition.Column),
        };
    }

    private void ReadResourceChanges()
    {
        _json.Read();
        if (_json.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (_json.TokenType != JsonTokenType.StartArray)
        {
            var (line, column) = _json.TokenPosition;
            throw new PlanParseException(PlanErrorKind.NotAPlan, "not a plan: resource_changes is not an array", line, column);
        }

        while (_json.ReadValueBytes() is { } bytes)
        {
            ReadResourceChange(bytes);
        }
    }

    // The hot path. One resource_change is already validated and buffered; one forward pass picks
    // the scalars and remembers where before/after/... lie, and a DOM is built only for the
    // values that are needed: diffs of updates and replacements, and resources a risk rule reads.
    private void ReadResourceChange(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        var reader = new Utf8JsonReader(span, isFinalBlock: true, state: default);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var (line, column) = _json.TokenPosition;
            throw new PlanParseException(PlanErrorKind.NotAPlan, "not a plan: resource_changes item is not an object", line, column);
        }

        string? address = null, previous = null, module = null, mode = null, type = null, provider = null, deposed = null, reason = null;
        var actions = new List<string>(2);
        Range before = default, after = default, afterUnknown = default, afterSensitive = default, replacePaths = default, importing = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("address"u8))
            {
                address = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                type = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("mode"u8))
            {
                mode = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("module_address"u8))
            {
                module = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("provider_name"u8))
            {
                provider = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("previous_address"u8))
            {
                previous = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("deposed"u8))
            {
                deposed = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("action_reason"u8))
            {
                reason = NextString(ref reader);
            }
            else if (reader.ValueTextEquals("change"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("actions"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartArray)
                        {
                            while (reader.Read() && reader.TokenType == JsonTokenType.String)
                            {
                                actions.Add(reader.GetString()!);
                            }
                        }
                    }
                    else if (reader.ValueTextEquals("before"u8))
                    {
                        before = ValueRange(ref reader);
                    }
                    else if (reader.ValueTextEquals("after"u8))
                    {
                        after = ValueRange(ref reader);
                    }
                    else if (reader.ValueTextEquals("after_unknown"u8))
                    {
                        afterUnknown = ValueRange(ref reader);
                    }
                    else if (reader.ValueTextEquals("after_sensitive"u8))
                    {
                        afterSensitive = ValueRange(ref reader);
                    }
                    else if (reader.ValueTextEquals("replace_paths"u8))
                    {
                        replacePaths = ValueRange(ref reader);
                    }
                    else if (reader.ValueTextEquals("importing"u8))
                    {
                        importing = ValueRange(ref reader);
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        var (action, order) = Actions(actions);
        type = Intern(type ?? "");
        var diffs = action is PlanAction.Update or PlanAction.Replace;
        var needValues = diffs || RiskDetector.NeedsValues(type, span[after]);
        using var beforeDoc = needValues ? Parse(bytes, before) : null;
        using var afterDoc = needValues ? Parse(bytes, after) : null;
        using var unknownDoc = needValues ? Parse(bytes, afterUnknown) : null;
        using var sensitiveDoc = needValues ? Parse(bytes, afterSensitive) : null;
        IReadOnlyList<string> changed = diffs ? AttributeDiff.ChangedPaths(Root(beforeDoc), Root(afterDoc), Root(unknownDoc)) : [];

        ImportingInfo? importingInfo = null;
        using (var importingDoc = Parse(bytes, importing))
        {
            if (Root(importingDoc) is { ValueKind: JsonValueKind.Object } imp)
            {
                importingInfo = new ImportingInfo(Str(imp, "id"), Prop(imp, "identity") is { } identity ? identity.GetRawText() : null);
            }
        }

        List<string> replace;
        using (var replaceDoc = Parse(bytes, replacePaths))
        {
            replace = ReplacePaths(Root(replaceDoc));
        }

        var resource = new ResourceChange
        {
            Address = address ?? "",
            Type = type,
            Action = action,
            Mode = mode == "data" ? ResourceMode.Data : ResourceMode.Managed,
            Provider = provider is null ? null : Intern(provider),
            Module = module is null ? null : Intern(module),
            ReplaceOrder = order,
            PreviousAddress = previous,
            Importing = importingInfo,
            Deposed = deposed,
            ReplacePaths = replace,
            ActionReason = reason is null ? null : Intern(reason),
            TagOnly = action == PlanAction.Update && AttributeDiff.IsTagOnly(changed),
            ChangedPaths = changed,
        };
        _resources.Add(resource);
        RiskDetector.Detect(new RiskInput(resource, type, Root(beforeDoc), Root(afterDoc), Root(sensitiveDoc), Root(unknownDoc)), _classes, _risks);
    }

    private static string? NextString(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }

    private static Range ValueRange(ref Utf8JsonReader reader)
    {
        reader.Read();
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default;
        }

        reader.Skip();
        return start..(int)reader.BytesConsumed;
    }

    private static JsonDocument? Parse(ReadOnlyMemory<byte> bytes, Range range) =>
        range.Equals(default(Range)) ? null : JsonDocument.Parse(bytes[range]);

    private static JsonElement? Root(JsonDocument? document) => document?.RootElement;

    private void ReadDrift(JsonElement rc)
    {
        var change = Prop(rc, "change") ?? default;
        var (action, _) = Actions(change);
        var changed = action is PlanAction.Update or PlanAction.Replace
            ? AttributeDiff.ChangedPaths(Prop(change, "before"), Prop(change, "after"), Prop(change, "after_unknown"))
            : [];
        _drift.Add(new DriftEntry(Str(rc, "address") ?? ComposeAddress(rc), Intern(Str(rc, "type") ?? ""), action, changed));
    }

    // Some captured plans (terraform-compliance's) have drift entries without `address`.
    private static string ComposeAddress(JsonElement rc)
    {
        var module = Str(rc, "module_address");
        var prefix = module is null ? "" : module + ".";
        var data = Str(rc, "mode") == "data" ? "data." : "";
        var index = Prop(rc, "index") switch
        {
            { ValueKind: JsonValueKind.Number } n => $"[{n.GetRawText()}]",
            { ValueKind: JsonValueKind.String } s => $"[\"{s.GetString()}\"]",
            _ => "",
        };
        return $"{prefix}{data}{Str(rc, "type")}.{Str(rc, "name")}{index}";
    }

    private static List<string> ReplacePaths(JsonElement? paths)
    {
        if (paths is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() == 0)
        {
            return NoPaths;
        }

        var result = new List<string>(array.GetArrayLength());
        foreach (var path in array.EnumerateArray())
        {
            var text = new System.Text.StringBuilder();
            foreach (var step in path.EnumerateArray())
            {
                if (step.ValueKind == JsonValueKind.Number)
                {
                    text.Append('[').Append(step.GetRawText()).Append(']');
                }
                else
                {
                    if (text.Length > 0)
                    {
                        text.Append('.');
                    }

                    text.Append(step.GetString());
                }
            }

            result.Add(text.ToString());
        }

        return result;
    }

    private OutputChange ToOutput(string name, JsonElement change)
    {
        var (action, _) = Actions(change);
        var sensitive = AnyTrue(Prop(change, "after_sensitive")) || AnyTrue(Prop(change, "before_sensitive"));
        var unknown = AnyTrue(Prop(change, "after_unknown"));
        string? display;
        if (sensitive)
        {
            display = OutputMasks.Sensitive;
        }
        else if (unknown)
        {
            display = OutputMasks.KnownAfterApply;
        }
        else if (action == PlanAction.Delete)
        {
            display = null;
        }
        else
        {
            var raw = Prop(change, "after")?.GetRawText() ?? "null";
            display = raw.Length > 120 ? raw[..117] + "..." : raw;
        }

        return new OutputChange(name, action, sensitive, unknown, display);
    }

    private static bool AnyTrue(JsonElement? marks) => marks switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.Object } o => o.EnumerateObject().Any(p => AnyTrue(p.Value)),
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Any(e => AnyTrue(e)),
        _ => false,
    };
}

/// <summary>The only texts that stand in for values we must not show.</summary>
public static class OutputMasks
{
    /// <summary>Value decided during apply.</summary>
    public const string KnownAfterApply = "(known after apply)";

    /// <summary>Sensitive value.</summary>
    public const string Sensitive = "(sensitive)";
}
