using System.Text.Json;

namespace Airlock.Domain.Plans;

/// <summary>
/// Streams `tofu/terraform show -json` output into a <see cref="PlanSummary"/>. Only one
/// resource_change is materialised at a time; prior_state, planned_values and configuration are
/// skipped token by token.
/// </summary>
internal sealed partial class TerraformPlanReader
{
    private static readonly HashSet<string> PlanMarkers = new(StringComparer.Ordinal)
    {
        "planned_values", "resource_changes", "resource_drift", "output_changes", "prior_state", "errored", "applyable",
    };

    // Shared by every resource without replace paths; never mutated.
    private static readonly List<string> NoPaths = [];

    private readonly StreamingJsonReader _json;
    private readonly ResourceClassMap _classes;
    private const int MaxInternedBytes = 256;

    private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _workerInterned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _internedByText;
    private readonly List<string> _actionNames = new(2);
    private readonly ChunkedList<ResourceChange> _resources = new();
    private readonly List<DriftEntry> _drift = [];
    private readonly List<OutputChange> _outputs = [];
    private readonly List<RiskFinding> _risks = [];

    private TerraformPlanReader(StreamingJsonReader json, ResourceClassMap classes)
    {
        _json = json;
        _classes = classes;
        _internedByText = _interned.GetAlternateLookup<ReadOnlySpan<char>>();
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

    private static JsonElement? Prop(JsonElement? obj, string name) => obj is { } o ? Prop(o, name) : null;

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

        using var pipeline = new ResourcePipeline(this);
        while (true)
        {
            var window = _json.Window;
            var reader = new Utf8JsonReader(window.Span, _json.IsFinalBlock, _json.State);
            if (!reader.Read())
            {
                if (!_json.FetchMore())
                {
                    pipeline.Finish();
                    return;
                }

                continue;
            }

            if (reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject)
            {
                _json.Advance(ref reader, captureText: true);
                pipeline.Finish();
                return;
            }

            _json.MarkPosition((int)reader.TokenStartIndex);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                var (line, column) = _json.TokenPosition;
                throw new PlanParseException(PlanErrorKind.NotAPlan, "not a plan: resource_changes item is not an object", line, column);
            }

            if (ReadResourceChange(ref reader, window, pipeline))
            {
                _json.Advance(ref reader);
            }
            else if (!_json.FetchMore())
            {
                // A final block that ends inside a value makes the reader throw; this is a guard.
                throw new JsonException("Unexpected end of JSON input.");
            }
        }
    }

    // The hot path, one tokenising pass per resource_change, in place in the stream's buffer: the
    // scan picks the scalars (type/provider/module/actions interned straight from UTF-8) and
    // remembers where before/after/... lie, then hands the resource (its change object copied) to
    // the pipeline, whose worker thread does the rest (Complete). Returns false, having changed
    // nothing, when the window ends inside the resource: the caller fetches more input and scans
    // it again from its start.
    private bool ReadResourceChange(ref Utf8JsonReader reader, ReadOnlyMemory<byte> window, ResourcePipeline pipeline)
    {
        string? address = null, previous = null, module = null, type = null, provider = null, deposed = null, reason = null;
        var data = false;
        var actions = _actionNames;
        actions.Clear();
        Range change = default, before = default, after = default, replacePaths = default, importing = default;
        while (true)
        {
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                break;
            }

            if (reader.ValueTextEquals("address"u8))
            {
                if (!reader.Read())
                {
                    return false;
                }

                address = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                if (!NextInterned(ref reader, out type))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("mode"u8))
            {
                if (!reader.Read())
                {
                    return false;
                }

                data = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("data"u8);
            }
            else if (reader.ValueTextEquals("module_address"u8))
            {
                if (!NextInterned(ref reader, out module))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("provider_name"u8))
            {
                if (!NextInterned(ref reader, out provider))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("previous_address"u8))
            {
                if (!reader.Read())
                {
                    return false;
                }

                previous = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("deposed"u8))
            {
                if (!reader.Read())
                {
                    return false;
                }

                deposed = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("action_reason"u8))
            {
                if (!NextInterned(ref reader, out reason))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("change"u8))
            {
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    if (!reader.TrySkip())
                    {
                        return false;
                    }

                    continue;
                }

                var changeStart = (int)reader.TokenStartIndex;
                while (true)
                {
                    if (!reader.Read())
                    {
                        return false;
                    }

                    if (reader.TokenType != JsonTokenType.PropertyName)
                    {
                        change = changeStart..(int)reader.BytesConsumed;
                        break;
                    }

                    bool complete;
                    if (reader.ValueTextEquals("actions"u8))
                    {
                        complete = ReadActions(ref reader, actions);
                    }
                    else if (reader.ValueTextEquals("before"u8))
                    {
                        complete = ValueRange(ref reader, out before);
                    }
                    else if (reader.ValueTextEquals("after"u8))
                    {
                        complete = ValueRange(ref reader, out after);
                    }
                    else if (reader.ValueTextEquals("replace_paths"u8))
                    {
                        complete = ValueRange(ref reader, out replacePaths);
                    }
                    else if (reader.ValueTextEquals("importing"u8))
                    {
                        complete = ValueRange(ref reader, out importing);
                    }
                    else
                    {
                        complete = reader.Read() && reader.TrySkip();
                    }

                    if (!complete)
                    {
                        return false;
                    }
                }
            }
            else if (!reader.Read() || !reader.TrySkip())
            {
                return false;
            }
        }

        var (action, order) = Actions(actions);

        // The worker reads values only to diff or check a create, update or replacement, and the
        // import and replacement details of any resource: the rest (no-ops, reads and deletes carry
        // whole before values, a third of the benchmark plan's change bytes) need not be copied to it.
        if (action is not (PlanAction.Create or PlanAction.Update or PlanAction.Replace) && importing.Equals(default(Range)) && replacePaths.Equals(default(Range)))
        {
            change = before = after = default;
        }

        pipeline.Add(
            new PendingResource
            {
                Address = address ?? "",
                Type = type ?? Intern(""),
                Mode = data ? ResourceMode.Data : ResourceMode.Managed,
                Action = action,
                Order = order,
                Provider = provider,
                Module = module,
                Previous = previous,
                Deposed = deposed,
                Reason = reason,
                Before = Relative(before, change),
                After = Relative(after, change),
                ReplacePaths = Relative(replacePaths, change),
                Importing = Relative(importing, change),
            },
            change.Equals(default(Range)) ? default : window.Span[change]);
        return true;
    }

    private static Range Relative(Range range, Range within) =>
        range.Equals(default(Range)) ? default : (range.Start.Value - within.Start.Value)..(range.End.Value - within.Start.Value);

    // The rest of a resource, on the pipeline's worker: a DOM is built only for the values that are
    // needed (diffs of updates and replacements, and resources a risk rule reads), then the risk
    // rules. Touches only the worker's state (_resources, _risks, _workerInterned).
    private void Complete(in PendingResource pending, ReadOnlyMemory<byte> change)
    {
        var span = change.Span;
        var (type, action, mode, before, after, importing, replacePaths) = (pending.Type, pending.Action, pending.Mode, pending.Before, pending.After, pending.Importing, pending.ReplacePaths);
        var diffs = action is PlanAction.Update or PlanAction.Replace;
        var needValues = diffs || RiskDetector.NeedsValues(mode, action, type, span[after]);

        // The unknown/sensitive marks are read by the diff, the IAM rules and rules comparing
        // against a before value; a create of any other type never looks at them.
        var needMarks = diffs || (needValues && (RiskDetector.ReadsMarks(type) || !before.Equals(default(Range))));
        // One DOM over the whole change object: a document per value cost more in fixed
        // per-parse overhead than the values themselves (most are a few hundred bytes).
        using var changeDoc = needValues && !change.IsEmpty ? JsonDocument.Parse(change) : null;
        var changeRoot = Root(changeDoc);
        var beforeValue = Prop(changeRoot, "before");
        var afterValue = Prop(changeRoot, "after");
        var unknownValue = needMarks ? Prop(changeRoot, "after_unknown") : null;
        var sensitiveValue = needMarks ? Prop(changeRoot, "after_sensitive") : null;
        IReadOnlyList<string> changed = diffs ? WorkerInternAll(AttributeDiff.ChangedPaths(beforeValue, afterValue, unknownValue)) : [];

        ImportingInfo? importingInfo = null;
        using (var importingDoc = Parse(change, importing))
        {
            if (Root(importingDoc) is { ValueKind: JsonValueKind.Object } imp)
            {
                importingInfo = new ImportingInfo(Str(imp, "id"), Prop(imp, "identity") is { } identity ? identity.GetRawText() : null);
            }
        }

        List<string> replace;
        using (var replaceDoc = Parse(change, replacePaths))
        {
            replace = ReplacePaths(Root(replaceDoc));
        }

        var resource = new ResourceChange
        {
            Address = pending.Address,
            Type = type,
            Action = action,
            Mode = mode,
            Provider = pending.Provider,
            Module = pending.Module,
            ReplaceOrder = pending.Order,
            PreviousAddress = pending.Previous,
            Importing = importingInfo,
            Deposed = pending.Deposed,
            ReplacePaths = replace,
            ActionReason = pending.Reason,
            TagOnly = action == PlanAction.Update && AttributeDiff.IsTagOnly(changed),
            ChangedPaths = changed,
        };
        _resources.Add(resource);
        var firstRisk = _risks.Count;
        RiskDetector.Detect(new RiskInput(resource, type, beforeValue, afterValue, sensitiveValue, unknownValue), _classes, _risks);
        for (var i = firstRisk; i < _risks.Count; i++)
        {
            // Details repeat across resources of a type ("aws_instance is destroyed"): keep one copy.
            var risk = _risks[i];
            if (_workerInterned.TryGetValue(risk.Detail, out var detail))
            {
                _risks[i] = risk with { Detail = detail };
            }
            else
            {
                _workerInterned[risk.Detail] = risk.Detail;
            }
        }
    }

    // Changed paths repeat across resources (tags, tags_all, ...): keep one copy of each. The
    // worker's own table: _interned belongs to the reading thread.
    private List<string> WorkerInternAll(List<string> paths)
    {
        for (var i = 0; i < paths.Count; i++)
        {
            if (_workerInterned.TryGetValue(paths[i], out var existing))
            {
                paths[i] = existing;
            }
            else
            {
                _workerInterned[paths[i]] = paths[i];
            }
        }

        return paths;
    }

    private bool ReadActions(ref Utf8JsonReader reader, List<string> actions)
    {
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (true)
            {
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    break;
                }

                actions.Add(InternValue(ref reader));
            }
        }

        return true;
    }

    private bool NextInterned(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            value = InternValue(ref reader);
        }

        return true;
    }

    // Types, providers, modules and action names repeat across resources: look them up by their
    // UTF-8 text and allocate a string only the first time.
    private string InternValue(ref Utf8JsonReader reader)
    {
        var utf8 = reader.ValueSpan;
        if (reader.ValueIsEscaped || reader.HasValueSequence || utf8.Length > MaxInternedBytes || !System.Text.Unicode.Utf8.IsValid(utf8))
        {
            return Intern(reader.GetString()!);
        }

        Span<char> chars = stackalloc char[MaxInternedBytes];
        var length = System.Text.Encoding.UTF8.GetChars(utf8, chars);
        if (_internedByText.TryGetValue(chars[..length], out var existing))
        {
            return existing;
        }

        var value = new string(chars[..length]);
        _interned[value] = value;
        return value;
    }

    private static bool ValueRange(ref Utf8JsonReader reader, out Range range)
    {
        range = default;
        if (!reader.Read())
        {
            return false;
        }

        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (!reader.TrySkip())
        {
            return false;
        }

        range = start..(int)reader.BytesConsumed;
        return true;
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
