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
                    EachArrayItem(ReadResourceChange);
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

    private void ReadResourceChange(JsonElement rc)
    {
        var change = Prop(rc, "change") ?? default;
        var (action, order) = Actions(change);
        var type = Intern(Str(rc, "type") ?? "");
        var address = Str(rc, "address") ?? ComposeAddress(rc);
        var before = Prop(change, "before");
        var after = Prop(change, "after");
        var afterUnknown = Prop(change, "after_unknown");
        IReadOnlyList<string> changed = action is PlanAction.Update or PlanAction.Replace ? AttributeDiff.ChangedPaths(before, after, afterUnknown) : [];
        ImportingInfo? importing = null;
        if (Prop(change, "importing") is { ValueKind: JsonValueKind.Object } imp)
        {
            importing = new ImportingInfo(Str(imp, "id"), Prop(imp, "identity") is { } identity ? identity.GetRawText() : null);
        }

        var resource = new ResourceChange
        {
            Address = address,
            Type = type,
            Action = action,
            Mode = Str(rc, "mode") == "data" ? ResourceMode.Data : ResourceMode.Managed,
            Provider = Str(rc, "provider_name") is { } p ? Intern(p) : null,
            Module = Str(rc, "module_address") is { } m ? Intern(m) : null,
            ReplaceOrder = order,
            PreviousAddress = Str(rc, "previous_address"),
            Importing = importing,
            Deposed = Str(rc, "deposed"),
            ReplacePaths = ReplacePaths(Prop(change, "replace_paths")),
            ActionReason = Str(rc, "action_reason") is { } r ? Intern(r) : null,
            TagOnly = action == PlanAction.Update && AttributeDiff.IsTagOnly(changed),
            ChangedPaths = changed,
        };
        _resources.Add(resource);
        RiskDetector.Detect(new RiskInput(resource, type, before, after, Prop(change, "after_sensitive"), afterUnknown), _classes, _risks);
    }

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
