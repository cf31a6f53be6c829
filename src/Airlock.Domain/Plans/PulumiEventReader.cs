using System.Collections.Frozen;
using System.Text.Json;

namespace Airlock.Domain.Plans;

/// <summary>
/// Reads a Pulumi engine event stream (JSON Lines of apitype.EngineEvent, as `--event-log` and
/// `--json` write it) into a <see cref="PlanSummary"/>. One event is materialised at a time.
/// </summary>
internal sealed class PulumiEventReader
{
    private const string UnknownSentinel = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

    // Pulumi type tokens for the resources the risk rules know, with their Terraform names.
    private static readonly FrozenDictionary<string, string> TerraformTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["aws:ec2/securityGroup:SecurityGroup"] = "aws_security_group",
        ["aws:ec2/securityGroupRule:SecurityGroupRule"] = "aws_security_group_rule",
        ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"] = "aws_vpc_security_group_ingress_rule",
        ["aws:iam/role:Role"] = "aws_iam_role",
        ["aws:iam/policy:Policy"] = "aws_iam_policy",
        ["aws:iam/rolePolicy:RolePolicy"] = "aws_iam_role_policy",
        ["aws:iam/userPolicy:UserPolicy"] = "aws_iam_user_policy",
        ["aws:iam/groupPolicy:GroupPolicy"] = "aws_iam_group_policy",
        ["aws:iam/rolePolicyAttachment:RolePolicyAttachment"] = "aws_iam_role_policy_attachment",
        ["aws:iam/userPolicyAttachment:UserPolicyAttachment"] = "aws_iam_user_policy_attachment",
        ["aws:iam/groupPolicyAttachment:GroupPolicyAttachment"] = "aws_iam_group_policy_attachment",
        ["aws:rds/instance:Instance"] = "aws_db_instance",
        ["aws:rds/cluster:Cluster"] = "aws_rds_cluster",
        ["aws:ebs/volume:Volume"] = "aws_ebs_volume",
        ["aws:kms/key:Key"] = "aws_kms_key",
        ["aws:route53/zone:Zone"] = "aws_route53_zone",
        ["gcp:sql/databaseInstance:DatabaseInstance"] = "google_sql_database_instance",
        ["gcp:compute/disk:Disk"] = "google_compute_disk",
        ["gcp:compute/firewall:Firewall"] = "google_compute_firewall",
        ["gcp:kms/cryptoKey:CryptoKey"] = "google_kms_crypto_key",
        ["gcp:dns/managedZone:ManagedZone"] = "google_dns_managed_zone",
        ["gcp:projects/iAMMember:IAMMember"] = "google_project_iam_member",
        ["gcp:projects/iAMBinding:IAMBinding"] = "google_project_iam_binding",
        ["azure:network/networkSecurityRule:NetworkSecurityRule"] = "azurerm_network_security_rule",
        ["azure:authorization/assignment:Assignment"] = "azurerm_role_assignment",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly StreamingJsonReader _json;
    private readonly ResourceClassMap _classes;
    private readonly Dictionary<string, Step> _steps = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly Dictionary<string, DriftEntry> _drift = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refreshing = new(StringComparer.Ordinal);
    private readonly List<RiskFinding> _risks = [];
    private bool _errored;

    private PulumiEventReader(StreamingJsonReader json, ResourceClassMap classes)
    {
        _json = json;
        _classes = classes;
    }

    private sealed class Step
    {
        public required string Urn { get; init; }

        public required string Type { get; init; }

        public string? Provider { get; set; }

        public string? Parent { get; set; }

        public PlanAction Action { get; set; }

        public ReplaceOrder? Order { get; set; }

        public ImportingInfo? Importing { get; set; }

        public List<string> ChangedPaths { get; } = [];

        public List<string> ReplacePaths { get; } = [];
    }

    public static PlanSummary Read(Stream stream, ResourceClassMap classes) => new PulumiEventReader(new StreamingJsonReader(stream, allowMultipleValues: true), classes).Read();

    private PlanSummary Read()
    {
        var events = 0;
        while (_json.ReadValueDocument() is { } document)
        {
            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || (!root.TryGetProperty("sequence", out _) && !root.EnumerateObject().Any(p => p.Name.EndsWith("Event", StringComparison.Ordinal))))
                {
                    var (line, column) = _json.TokenPosition;
                    throw new PlanParseException(PlanErrorKind.NotAPlan, "not a Pulumi engine event (no sequence or *Event)", line, column);
                }

                Handle(root);
                events++;
            }
        }

        if (events == 0)
        {
            throw new PlanParseException(PlanErrorKind.NotAPlan, "empty Pulumi event stream", 1, 1);
        }

        var resources = _order.Select(urn => ToResource(_steps[urn])).ToList();
        return new PlanSummary
        {
            Engine = "pulumi",
            Errored = _errored,
            Resources = resources,
            Drift = [.. _drift.Values],
            Risks = _risks,
        };
    }

    private static ResourceChange ToResource(Step step)
    {
        var changed = step.ChangedPaths.Distinct(StringComparer.Ordinal).ToList();
        return new ResourceChange
        {
            Address = step.Urn,
            Type = step.Type,
            Action = step.Action,
            Mode = step.Action == PlanAction.Read ? ResourceMode.Data : ResourceMode.Managed,
            Provider = step.Provider,
            Module = step.Parent,
            ReplaceOrder = step.Order,
            Importing = step.Importing,
            ReplacePaths = step.ReplacePaths.Distinct(StringComparer.Ordinal).ToList(),
            TagOnly = step.Action == PlanAction.Update && AttributeDiff.IsTagOnly(changed),
            ChangedPaths = step.Action is PlanAction.Update or PlanAction.Replace ? changed : [],
        };
    }

    private void Handle(JsonElement root)
    {
        if (root.TryGetProperty("resourcePreEvent", out var pre))
        {
            Pre(pre);
        }
        else if (root.TryGetProperty("resOutputsEvent", out var outputs))
        {
            Outputs(outputs);
        }
        else if (root.TryGetProperty("resOpFailedEvent", out _))
        {
            _errored = true;
        }
        else if (root.TryGetProperty("diagnosticEvent", out var diagnostic))
        {
            if (diagnostic.TryGetProperty("severity", out var severity) && severity.GetString() == "error")
            {
                _errored = true;
            }
        }
        else if (root.TryGetProperty("errorEvent", out _))
        {
            _errored = true;
        }
        else if (root.TryGetProperty("summaryEvent", out var summary))
        {
            if (summary.TryGetProperty("result", out var result) && result.GetString() == "failed")
            {
                _errored = true;
            }
        }
    }

    private void Pre(JsonElement pre)
    {
        if (!pre.TryGetProperty("metadata", out var metadata))
        {
            return;
        }

        var op = Text(metadata, "op") ?? "";
        var urn = Text(metadata, "urn") ?? "";
        if (op == "refresh")
        {
            _refreshing.Add(urn);
            return;
        }

        var action = op switch
        {
            "same" => PlanAction.NoOp,
            "create" => PlanAction.Create,
            "update" => PlanAction.Update,
            "delete" => PlanAction.Delete,
            "read" or "read-replacement" => PlanAction.Read,
            "import" => PlanAction.NoOp,
            "replace" or "create-replacement" or "delete-replaced" or "import-replacement" or "discard-replaced" => PlanAction.Replace,
            "discard" or "read-discard" => PlanAction.Forget,
            _ => (PlanAction?)null,
        };
        if (action is null)
        {
            return;
        }

        var isNew = !_steps.TryGetValue(urn, out var step);
        if (step is null)
        {
            step = new Step { Urn = urn, Type = Text(metadata, "type") ?? "" };
            _steps[urn] = step;
            _order.Add(urn);
            step.Action = action.Value;
        }
        else if (Rank(action.Value) > Rank(step.Action))
        {
            step.Action = action.Value;
        }

        var old = Object(metadata, "old");
        var @new = Object(metadata, "new");
        step.Provider ??= NullIfEmpty(Text(metadata, "provider"));
        step.Parent ??= NullIfEmpty(Text(@new ?? old ?? default, "parent"));
        if (op is "create-replacement" or "import-replacement")
        {
            step.Order ??= ReplaceOrder.CreateBeforeDestroy;
        }
        else if (op is "delete-replaced" or "discard-replaced")
        {
            step.Order ??= ReplaceOrder.DeleteBeforeCreate;
        }

        if (op is "import" or "import-replacement")
        {
            step.Importing = new ImportingInfo(NullIfEmpty(Text(@new ?? default, "importID")) ?? NullIfEmpty(Text(@new ?? default, "id")), null);
        }

        if (metadata.TryGetProperty("diffs", out var diffs) && diffs.ValueKind == JsonValueKind.Array)
        {
            step.ChangedPaths.AddRange(diffs.EnumerateArray().Select(d => d.GetString() ?? ""));
        }

        if (action == PlanAction.Replace && metadata.TryGetProperty("keys", out var keys) && keys.ValueKind == JsonValueKind.Array)
        {
            step.ReplacePaths.AddRange(keys.EnumerateArray().Select(k => k.GetString() ?? ""));
        }

        if (isNew && action != PlanAction.NoOp)
        {
            var terraformType = TerraformTypes.GetValueOrDefault(step.Type, step.Type);
            var change = new ResourceChange { Address = urn, Type = step.Type, Action = action.Value, ReplaceOrder = step.Order };
            RiskDetector.Detect(new RiskInput(change, terraformType, Inputs(old), Inputs(@new), null, null), _classes, _risks);
        }
    }

    private void Outputs(JsonElement outputs)
    {
        if (!outputs.TryGetProperty("metadata", out var metadata))
        {
            return;
        }

        var urn = Text(metadata, "urn") ?? "";
        if (!_refreshing.Contains(urn))
        {
            return;
        }

        // A refresh step's outputs event says what the refresh found: same, update (drift) or delete (gone).
        var action = Text(metadata, "op") switch
        {
            "update" => PlanAction.Update,
            "delete" => PlanAction.Delete,
            _ => PlanAction.NoOp,
        };
        _refreshing.Remove(urn);
        if (action == PlanAction.NoOp)
        {
            _drift.Remove(urn);
            return;
        }

        var diffs = metadata.TryGetProperty("diffs", out var d) && d.ValueKind == JsonValueKind.Array
            ? d.EnumerateArray().Select(x => x.GetString() ?? "").Distinct(StringComparer.Ordinal).ToList()
            : [];
        _drift[urn] = new DriftEntry(urn, Text(metadata, "type") ?? "", action, diffs);
    }

    private static int Rank(PlanAction action) => action switch
    {
        PlanAction.Replace => 6,
        PlanAction.Delete => 5,
        PlanAction.Update => 4,
        PlanAction.Create => 3,
        PlanAction.Forget => 2,
        PlanAction.Read => 1,
        _ => 0,
    };

    private static JsonElement? Inputs(JsonElement? state) =>
        state is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Object ? inputs : null;

    private static JsonElement? Object(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    private static string? Text(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() is UnknownSentinel ? OutputMasks.KnownAfterApply : value.GetString()
            : null;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
