using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Airlock.Domain.Plans;

/// <summary>Risk kinds (stable wire names).</summary>
public static class RiskKinds
{
    /// <summary>A resource is deleted.</summary>
    public const string Destroy = "destroy";

    /// <summary>A resource of a stateful class (database, volume, key, zone) is replaced.</summary>
    public const string StatefulReplacement = "stateful_replacement";

    /// <summary>New IAM actions, resources, wildcards or principals.</summary>
    public const string IamPrivilegeExpansion = "iam_privilege_expansion";

    /// <summary>Ingress from 0.0.0.0/0, ::/0, * or Internet.</summary>
    public const string PublicIngressAdded = "public_ingress_added";

    /// <summary>An encryption flag turned off.</summary>
    public const string EncryptionDisabled = "encryption_disabled";

    /// <summary>Backup retention set to 0 or lowered, or the final snapshot skipped.</summary>
    public const string BackupDisabled = "backup_disabled";

    /// <summary>Deletion protection switched off.</summary>
    public const string DeletionProtectionRemoved = "deletion_protection_removed";
}

/// <summary>One resource change as risk detection sees it: the summary entry plus the raw before/after values.</summary>
/// <param name="Change">The summary entry.</param>
/// <param name="TerraformType">The Terraform type name (Pulumi tokens are translated where known).</param>
/// <param name="Before">Value before, or null.</param>
/// <param name="After">Value after, or null.</param>
/// <param name="AfterSensitive">after_sensitive marks, or null.</param>
/// <param name="AfterUnknown">after_unknown marks, or null.</param>
public readonly record struct RiskInput(ResourceChange Change, string TerraformType, JsonElement? Before, JsonElement? After, JsonElement? AfterSensitive, JsonElement? AfterUnknown);

/// <summary>Finds the risk facts of DESIGN.md §2 in one resource change. Pure; values only reach details when neither sensitive nor unknown.</summary>
public static class RiskDetector
{
    private const string KnownAfterApply = "(known after apply)";
    private const string Sensitive = "(sensitive)";

    private static readonly string[] EncryptionFlags = ["storage_encrypted", "encrypted", "at_rest_encryption_enabled", "transit_encryption_enabled", "encryption_enabled", "enable_encryption", "kms_encryption_enabled"];
    private static readonly (byte[] Snake, byte[] Camel)[] EncryptionFlagNames = [.. EncryptionFlags.Select(f => (Encoding.UTF8.GetBytes(f), Encoding.UTF8.GetBytes(CamelCase(f))))];
    private static readonly string[] DeletionProtectionFlags = ["deletion_protection", "enable_deletion_protection", "deletion_protection_enabled"];
    private static readonly string[] AwsPolicyAttributes = ["policy", "assume_role_policy"];

    /// <summary>
    /// Whether a rule would read the values of a resource of this mode, action and type whose after
    /// value is <paramref name="afterJson"/>. Lets the reader skip building a DOM for the vast
    /// majority of resources (no-ops, reads, deletes, and creates no rule can report on).
    /// </summary>
    public static bool NeedsValues(ResourceMode mode, PlanAction action, string terraformType, ReadOnlySpan<byte> afterJson)
    {
        // Mirrors the early returns of Detect: only managed creates, updates and replacements reach the value rules.
        if (mode == ResourceMode.Data || action is not (PlanAction.Create or PlanAction.Update or PlanAction.Replace))
        {
            return false;
        }

        // Updates and replacements compare against a before value this does not see (and are diffed anyway).
        return action != PlanAction.Create || RulesToRun(terraformType, afterJson, default, hasBefore: false) != ValueRules.None;
    }

    /// <summary>The value rules of <see cref="Detect"/>; a rule runs only when its prefilter says it could report.</summary>
    [Flags]
    private enum ValueRules
    {
        None = 0,
        Iam = 1,
        PublicIngress = 2,
        Encryption = 4,
        Backup = 8,
        DeletionProtection = 16,
    }

    // The generic rules look up a dozen attributes each (a linear search per lookup); most values
    // hold none of them, which one vectorised scan of the raw JSON settles. Detect and NeedsValues
    // share this, so the reader never skips a DOM a rule would have read.
    private static ValueRules RulesToRun(string type, ReadOnlySpan<byte> afterJson, ReadOnlySpan<byte> beforeJson, bool hasBefore)
    {
        var rules = IsIamType(type) ? ValueRules.Iam : ValueRules.None;
        var escaped = afterJson.IndexOf("\\u"u8) >= 0 || beforeJson.IndexOf("\\u"u8) >= 0;

        // Only rules whose source is exactly a public range can be reported, so an after value
        // without one (and without any escape that could spell one) adds none.
        if (IngressTypes.Contains(type) && (afterJson.IndexOf((byte)'\\') >= 0 || ContainsAny(afterJson, type.StartsWith("azurerm_", StringComparison.Ordinal) ? PublicAzureNeedles : PublicCidrNeedles)))
        {
            rules |= ValueRules.PublicIngress;
        }

        // A new resource can only report a flag that is false (the S3 rule needs a before value).
        if (escaped || ((afterJson.IndexOf("ncrypt"u8) >= 0 || beforeJson.IndexOf("ncrypt"u8) >= 0) && (hasBefore || afterJson.IndexOf("false"u8) >= 0)))
        {
            rules |= ValueRules.Encryption;
        }

        if (escaped || ContainsAny(afterJson, BackupNeedles))
        {
            rules |= ValueRules.Backup;
        }

        // Deletion protection is reported only when it was on before.
        if (hasBefore && (escaped || ContainsAny(afterJson, DeletionProtectionNeedles)))
        {
            rules |= ValueRules.DeletionProtection;
        }

        return rules;
    }

    // What each generic rule must find in the raw after (or before) value to have anything to
    // report, in Terraform and Pulumi spelling. A key spelled with \u escapes could hide a name,
    // so values containing "\u" always run the rules.
    private static readonly byte[][] BackupNeedles =
    [
        "backup_retention"u8.ToArray(), "backupRetention"u8.ToArray(), "skip_final_snapshot"u8.ToArray(), "skipFinalSnapshot"u8.ToArray(), "backup_configuration"u8.ToArray(), "backupConfiguration"u8.ToArray(),
    ];

    private static readonly byte[][] DeletionProtectionNeedles = ["deletion_protection"u8.ToArray(), "eletionProtection"u8.ToArray()];

    private static readonly ConcurrentDictionary<string, string> CamelNames = new(StringComparer.Ordinal);

    private static bool ContainsAny(ReadOnlySpan<byte> json, byte[][] needles)
    {
        foreach (var needle in needles)
        {
            if (json.IndexOf(needle) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static readonly HashSet<string> IngressTypes = new(StringComparer.Ordinal)
    {
        "aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "google_compute_firewall", "azurerm_network_security_rule", "azurerm_network_security_group",
    };

    /// <summary>Whether the rules for this type read after_unknown/after_sensitive marks even on a create.</summary>
    internal static bool ReadsMarks(string terraformType) => IsIamType(terraformType);

    private static bool IsIamType(string type) =>
        type.StartsWith("aws_iam_", StringComparison.Ordinal)
        || (type.StartsWith("google_", StringComparison.Ordinal) && (type.EndsWith("_iam_binding", StringComparison.Ordinal) || type.EndsWith("_iam_member", StringComparison.Ordinal) || type.EndsWith("_iam_policy", StringComparison.Ordinal)))
        || type is "azurerm_role_assignment" or "azurerm_role_definition";

    /// <summary>Appends the findings for <paramref name="input"/> to <paramref name="sink"/>.</summary>
    public static void Detect(in RiskInput input, ResourceClassMap classes, List<RiskFinding> sink)
    {
        var change = input.Change;
        if (change.Mode == ResourceMode.Data)
        {
            return;
        }

        var address = change.Address;
        var resourceClass = classes.ClassOf(input.TerraformType);
        switch (change.Action)
        {
            case PlanAction.Delete:
                sink.Add(new RiskFinding(RiskKinds.Destroy, address, resourceClass is null ? $"{change.Type} is destroyed" : $"{change.Type} ({resourceClass}) is destroyed"));
                return;
            case PlanAction.Replace when resourceClass is not null:
                var reason = change.ReplacePaths.Count > 0 ? $" because {string.Join(", ", change.ReplacePaths)} changed" : "";
                var order = change.ReplaceOrder == ReplaceOrder.CreateBeforeDestroy ? "create-before-destroy" : "delete-before-create";
                sink.Add(new RiskFinding(RiskKinds.StatefulReplacement, address, $"{change.Type} ({resourceClass}) is replaced ({order}){reason}"));
                break;
            case PlanAction.Create or PlanAction.Update or PlanAction.Replace:
                break;
            default:
                return;
        }

        if (input.After is not { ValueKind: JsonValueKind.Object } after)
        {
            return;
        }

        var before = input.Before is { ValueKind: JsonValueKind.Object } b ? b : (JsonElement?)null;
        var context = new Context(input, before, after, sink);
        var rules = RulesToRun(input.TerraformType, JsonMarshal.GetRawUtf8Value(after), before is { } known ? JsonMarshal.GetRawUtf8Value(known) : default, before is not null);
        if (rules.HasFlag(ValueRules.Iam))
        {
            Iam(in context);
        }

        if (rules.HasFlag(ValueRules.PublicIngress))
        {
            PublicIngress(in context);
        }

        if (rules.HasFlag(ValueRules.Encryption))
        {
            Encryption(in context);
        }

        if (rules.HasFlag(ValueRules.Backup))
        {
            Backup(in context);
        }

        if (rules.HasFlag(ValueRules.DeletionProtection))
        {
            DeletionProtection(in context);
        }
    }

    // A struct passed by reference: one per resource the value rules read, so no allocation for it.
    private readonly record struct Context(RiskInput Input, JsonElement? Before, JsonElement After, List<RiskFinding> Sink)
    {
        public string Type => Input.TerraformType;

        public string Address => Input.Change.Address;

        public void Add(string kind, string detail) => Sink.Add(new RiskFinding(kind, Address, detail));

        public JsonElement? BeforeAttr(string name) => Before is { } b ? Attr(b, name) : null;

        public JsonElement? AfterAttr(string name) => Attr(After, name);

        public bool IsUnknown(string name) => Input.AfterUnknown is { ValueKind: JsonValueKind.Object } u && Attr(u, name) is { } m && m.ValueKind != JsonValueKind.False;

        public bool IsSensitive(string name) => Input.AfterSensitive is { ValueKind: JsonValueKind.Object } s && Attr(s, name) is { } m && m.ValueKind != JsonValueKind.False;

        /// <summary>A value fit for a detail line: masked when sensitive or unknown.</summary>
        public string Show(string name, string? value)
        {
            if (IsSensitive(name))
            {
                return Sensitive;
            }

            return value ?? KnownAfterApply;
        }
    }

    // Pulumi spells attributes in camelCase; the rules are written with Terraform names.
    internal static JsonElement? Attr(JsonElement obj, string snakeName)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (obj.TryGetProperty(snakeName, out var value))
        {
            return value;
        }

        // A name without an underscore is spelled the same in camelCase: one search is enough.
        return snakeName.Contains('_') && obj.TryGetProperty(CamelNames.GetOrAdd(snakeName, CamelCase), out value) ? value : null;
    }

    private static string CamelCase(string snake)
    {
        var builder = new StringBuilder(snake.Length);
        var upper = false;
        foreach (var c in snake)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }

            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        return builder.ToString();
    }

    private static bool IsFalse(JsonElement? e) => e is { ValueKind: JsonValueKind.False } || (e is { ValueKind: JsonValueKind.String } s && s.GetString() == "false");

    private static bool IsTrue(JsonElement? e) => e is { ValueKind: JsonValueKind.True } || (e is { ValueKind: JsonValueKind.String } s && s.GetString() == "true");

    private static double? Number(JsonElement? e) => e switch
    {
        { ValueKind: JsonValueKind.Number } n => n.GetDouble(),
        { ValueKind: JsonValueKind.String } s when double.TryParse(s.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    // Most attributes the rules ask for are absent: answer those without allocating an iterator.
    private static IEnumerable<JsonElement> Items(JsonElement? e) => e is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : Array.Empty<JsonElement>();

    private static IEnumerable<string> Strings(JsonElement? e) => e?.ValueKind switch
    {
        JsonValueKind.String => [e.Value.GetString()!],
        JsonValueKind.Array => ArrayStrings(e.Value),
        _ => [],
    };

    private static IEnumerable<string> ArrayStrings(JsonElement array)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                yield return item.GetString()!;
            }
        }
    }

    private static string Summarise(IEnumerable<string> items, int max = 5)
    {
        var list = items.ToList();
        return list.Count <= max ? string.Join(", ", list) : string.Join(", ", list.Take(max)) + $" and {list.Count - max} more";
    }

    // ---- encryption, backups, deletion protection ----------------------------------------

    private static void Encryption(in Context c)
    {
        // Most values hold none of the flags and few attributes are false: one pass over after
        // finds the flags that are, instead of two name searches per flag.
        var candidates = 0;
        foreach (var property in c.After.EnumerateObject())
        {
            if (property.Value.ValueKind is JsonValueKind.False or JsonValueKind.String)
            {
                candidates |= EncryptionFlagBit(property);
            }
        }

        for (var i = 0; i < EncryptionFlags.Length; i++)
        {
            var flag = EncryptionFlags[i];
            if ((candidates & (1 << i)) != 0 && IsFalse(c.AfterAttr(flag)) && !IsFalse(c.BeforeAttr(flag)))
            {
                c.Add(RiskKinds.EncryptionDisabled, c.Before is null ? $"{flag} = false on a new {c.Input.Change.Type}" : $"{flag} changes to false");
            }
        }

        // An S3 bucket losing its inline server-side encryption block.
        if (c.Before is not null && Items(c.BeforeAttr("server_side_encryption_configuration")).Any() && !Items(c.AfterAttr("server_side_encryption_configuration")).Any() && !c.IsUnknown("server_side_encryption_configuration"))
        {
            c.Add(RiskKinds.EncryptionDisabled, "server_side_encryption_configuration removed");
        }
    }

    // Bit i set when the property is named EncryptionFlags[i] in either spelling (escaped names
    // always match, so the lookups decide).
    private static int EncryptionFlagBit(JsonProperty property)
    {
        var name = JsonMarshal.GetRawUtf8PropertyName(property);
        if (name.IndexOf((byte)'\\') >= 0)
        {
            return -1;
        }

        if (name.IndexOf("ncrypt"u8) < 0)
        {
            return 0;
        }

        for (var i = 0; i < EncryptionFlags.Length; i++)
        {
            if (name.SequenceEqual(EncryptionFlagNames[i].Snake) || name.SequenceEqual(EncryptionFlagNames[i].Camel))
            {
                return 1 << i;
            }
        }

        return 0;
    }

    private static void Backup(in Context c)
    {
        var reasons = new List<string>();
        var retentionAfter = Number(c.AfterAttr("backup_retention_period"));
        var retentionBefore = Number(c.BeforeAttr("backup_retention_period"));
        if (retentionAfter == 0 && retentionBefore != 0)
        {
            reasons.Add(retentionBefore is null ? "backup_retention_period = 0" : $"backup_retention_period lowered from {retentionBefore} to 0");
        }
        else if (retentionAfter is > 0 && retentionBefore is { } previous && retentionAfter < previous)
        {
            reasons.Add($"backup_retention_period lowered from {previous} to {retentionAfter}");
        }

        if (IsTrue(c.AfterAttr("skip_final_snapshot")) && !IsTrue(c.BeforeAttr("skip_final_snapshot")))
        {
            reasons.Add("skip_final_snapshot = true (no final snapshot on delete)");
        }

        // GCP Cloud SQL: settings[].backup_configuration[].enabled = false.
        foreach (var settings in Items(c.AfterAttr("settings")))
        {
            foreach (var backup in Items(Attr(settings, "backup_configuration")))
            {
                if (IsFalse(Attr(backup, "enabled")) && !BeforeGcpBackupDisabled(in c))
                {
                    reasons.Add("settings.backup_configuration.enabled = false");
                }
            }
        }

        if (reasons.Count > 0)
        {
            c.Add(RiskKinds.BackupDisabled, string.Join("; ", reasons));
        }
    }

    private static bool BeforeGcpBackupDisabled(in Context c) =>
        Items(c.BeforeAttr("settings")).SelectMany(s => Items(Attr(s, "backup_configuration"))).Any(b => IsFalse(Attr(b, "enabled")));

    private static void DeletionProtection(in Context c)
    {
        foreach (var flag in DeletionProtectionFlags)
        {
            if (IsTrue(c.BeforeAttr(flag)) && IsFalse(c.AfterAttr(flag)))
            {
                c.Add(RiskKinds.DeletionProtectionRemoved, $"{flag} changes from true to false");
            }
        }
    }

    // ---- public ingress -------------------------------------------------------------------

    private static readonly string[] PublicCidrs = ["0.0.0.0/0", "::/0"];
    private static readonly string[] PublicAzurePrefixes = ["*", "Internet", "0.0.0.0/0", "::/0", "Any"];
    private static readonly byte[][] PublicCidrNeedles = ["0.0.0.0/0"u8.ToArray(), "::/0"u8.ToArray()];
    private static readonly byte[][] PublicAzureNeedles = ["*"u8.ToArray(), "Internet"u8.ToArray(), "0.0.0.0/0"u8.ToArray(), "::/0"u8.ToArray(), "Any"u8.ToArray()];

    private static void PublicIngress(in Context c)
    {
        var after = PublicRules(c.Type, c.After);
        var added = (c.Before is { } before ? after.Except(PublicRules(c.Type, before)) : after.Distinct()).ToList();
        if (added.Count > 0)
        {
            c.Add(RiskKinds.PublicIngressAdded, "ingress opened to the internet: " + Summarise(added));
        }
    }

    private static IEnumerable<string> PublicRules(string type, JsonElement value)
    {
        switch (type)
        {
            case "aws_security_group":
                foreach (var rule in Items(Attr(value, "ingress")))
                {
                    foreach (var cidr in Strings(Attr(rule, "cidr_blocks")).Concat(Strings(Attr(rule, "ipv6_cidr_blocks"))).Where(PublicCidrs.Contains))
                    {
                        yield return $"{Ports(rule)} from {cidr}";
                    }
                }

                break;
            case "aws_security_group_rule":
                if (Attr(value, "type") is { ValueKind: JsonValueKind.String } kind && kind.GetString() == "ingress")
                {
                    foreach (var cidr in Strings(Attr(value, "cidr_blocks")).Concat(Strings(Attr(value, "ipv6_cidr_blocks"))).Where(PublicCidrs.Contains))
                    {
                        yield return $"{Ports(value)} from {cidr}";
                    }
                }

                break;
            case "aws_vpc_security_group_ingress_rule":
                foreach (var cidr in Strings(Attr(value, "cidr_ipv4")).Concat(Strings(Attr(value, "cidr_ipv6"))).Where(PublicCidrs.Contains))
                {
                    yield return $"{Ports(value)} from {cidr}";
                }

                break;
            case "google_compute_firewall":
                var direction = Attr(value, "direction") is { ValueKind: JsonValueKind.String } d ? d.GetString() : null;
                if ((direction is null || direction == "INGRESS") && Items(Attr(value, "allow")).Any())
                {
                    foreach (var range in Strings(Attr(value, "source_ranges")).Where(PublicCidrs.Contains))
                    {
                        var allowed = Items(Attr(value, "allow")).Select(a => $"{Text(Attr(a, "protocol"))}:{Summarise(Strings(Attr(a, "ports")))}".TrimEnd(':'));
                        yield return $"{string.Join(" ", allowed)} from {range}";
                    }
                }

                break;
            case "azurerm_network_security_rule":
                foreach (var rule in AzurePublic(value))
                {
                    yield return rule;
                }

                break;
            case "azurerm_network_security_group":
                foreach (var rule in Items(Attr(value, "security_rule")).SelectMany(AzurePublic))
                {
                    yield return rule;
                }

                break;
        }
    }

    private static IEnumerable<string> AzurePublic(JsonElement rule)
    {
        if (!string.Equals(Text(Attr(rule, "direction")), "Inbound", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(Text(Attr(rule, "access")), "Allow", StringComparison.OrdinalIgnoreCase))
        {
            yield break;
        }

        foreach (var source in Strings(Attr(rule, "source_address_prefix")).Concat(Strings(Attr(rule, "source_address_prefixes"))).Where(PublicAzurePrefixes.Contains))
        {
            yield return $"{Text(Attr(rule, "name"))} port {Text(Attr(rule, "destination_port_range"))} from {source}";
        }
    }

    private static string Ports(JsonElement rule)
    {
        var from = Text(Attr(rule, "from_port"));
        var to = Text(Attr(rule, "to_port"));
        var protocol = Text(Attr(rule, "protocol")) ?? Text(Attr(rule, "ip_protocol"));
        var ports = from == to ? from : $"{from}-{to}";
        return $"{protocol}/{ports}";
    }

    private static string? Text(JsonElement? e) => e switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        { ValueKind: JsonValueKind.True } => "true",
        { ValueKind: JsonValueKind.False } => "false",
        _ => null,
    };

    // ---- IAM --------------------------------------------------------------------------------

    private static void Iam(in Context c)
    {
        var type = c.Type;
        if (!IsIamType(type))
        {
            return;
        }

        if (type.StartsWith("aws_iam_", StringComparison.Ordinal))
        {
            AwsIam(in c);
        }
        else if (type.StartsWith("google_", StringComparison.Ordinal))
        {
            GcpIam(in c);
        }
        else
        {
            AzureIam(in c);
        }
    }

    private static void AwsIam(in Context c)
    {
        if (c.Type.EndsWith("_policy_attachment", StringComparison.Ordinal))
        {
            var arnBefore = Text(c.BeforeAttr("policy_arn"));
            var arnAfter = Text(c.AfterAttr("policy_arn"));
            if (arnAfter != arnBefore || c.Before is null)
            {
                var target = Text(c.AfterAttr("role")) ?? Text(c.AfterAttr("user")) ?? Text(c.AfterAttr("group")) ?? "its principal";
                c.Add(RiskKinds.IamPrivilegeExpansion, $"attaches {c.Show("policy_arn", arnAfter)} to {target}");
            }

            return;
        }

        var found = new List<string>();
        foreach (var attribute in AwsPolicyAttributes)
        {
            if (c.IsUnknown(attribute) && c.AfterAttr(attribute) is null or { ValueKind: JsonValueKind.Null })
            {
                if (c.Before is null)
                {
                    found.Add($"{attribute} {KnownAfterApply}");
                }

                continue;
            }

            var grantsAfter = PolicyGrants(c.AfterAttr(attribute));
            var grantsBefore = PolicyGrants(c.BeforeAttr(attribute));
            grantsAfter.ExceptWith(grantsBefore);
            if (grantsAfter.Count > 0)
            {
                found.Add(c.IsSensitive(attribute) ? $"{attribute} {Sensitive}" : $"{attribute}: {Summarise(grantsAfter.Order(StringComparer.Ordinal))}");
            }
        }

        // aws_iam_role inline_policy blocks.
        if (c.AfterAttr("inline_policy") is { ValueKind: JsonValueKind.Array } inlinePolicies && inlinePolicies.GetArrayLength() > 0)
        {
            var inlineAfter = Items(inlinePolicies).SelectMany(p => PolicyGrants(Attr(p, "policy"))).ToHashSet(StringComparer.Ordinal);
            inlineAfter.ExceptWith(Items(c.BeforeAttr("inline_policy")).SelectMany(p => PolicyGrants(Attr(p, "policy"))));
            if (inlineAfter.Count > 0)
            {
                found.Add($"inline_policy: {Summarise(inlineAfter.Order(StringComparer.Ordinal))}");
            }
        }

        if (found.Count > 0)
        {
            c.Add(RiskKinds.IamPrivilegeExpansion, string.Join("; ", found));
        }
    }

    /// <summary>Allow grants of an AWS policy document (JSON string or object) as "action X", "resource Y", "principal Z".</summary>
    internal static HashSet<string> PolicyGrants(JsonElement? policy)
    {
        var grants = new HashSet<string>(StringComparer.Ordinal);
        JsonDocument? owned = null;
        byte[]? unescaped = null;
        try
        {
            JsonElement document;
            if (policy is { ValueKind: JsonValueKind.String } s)
            {
                // The document is JSON inside a JSON string: unescape it as UTF-8 and parse that,
                // rather than going through a .NET string and back.
                var raw = JsonMarshal.GetRawUtf8Value(s);
                var reader = new Utf8JsonReader(raw);
                reader.Read();
                unescaped = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(1, reader.ValueSpan.Length));
                var length = reader.CopyString(unescaped);
                if (unescaped.AsSpan(0, length).Trim(" \t\r\n"u8).IsEmpty)
                {
                    return grants;
                }

                try
                {
                    owned = JsonDocument.Parse(unescaped.AsMemory(0, length));
                }
                catch (JsonException)
                {
                    return grants;
                }

                document = owned.RootElement;
            }
            else if (policy is { ValueKind: JsonValueKind.Object } o)
            {
                document = o;
            }
            else
            {
                return grants;
            }

            var statements = Attr(document, "Statement") ?? Attr(document, "statement");
            IEnumerable<JsonElement> list = statements is { ValueKind: JsonValueKind.Object } single ? [single] : Items(statements);
            foreach (var statement in list)
            {
                var effect = Text(Attr(statement, "Effect") ?? Attr(statement, "effect"));
                if (effect is not null && !effect.Equals("Allow", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                foreach (var action in Strings(Attr(statement, "Action") ?? Attr(statement, "actions")))
                {
                    grants.Add("action " + action);
                }

                foreach (var action in Strings(Attr(statement, "NotAction")))
                {
                    grants.Add("all actions except " + action);
                }

                foreach (var resource in Strings(Attr(statement, "Resource") ?? Attr(statement, "resources")))
                {
                    grants.Add("resource " + resource);
                }

                foreach (var principal in Principals(Attr(statement, "Principal")))
                {
                    grants.Add("principal " + principal);
                }
            }

            return grants;
        }
        finally
        {
            owned?.Dispose();
            if (unescaped is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(unescaped);
            }
        }
    }

    private static IEnumerable<string> Principals(JsonElement? principal)
    {
        if (principal is { ValueKind: JsonValueKind.String } star)
        {
            yield return star.GetString()!;
            yield break;
        }

        if (principal is { ValueKind: JsonValueKind.Object } map)
        {
            foreach (var property in map.EnumerateObject())
            {
                foreach (var value in Strings(property.Value))
                {
                    yield return $"{property.Name}:{value}";
                }
            }
        }
    }

    private static void GcpIam(in Context c)
    {
        var role = Text(c.AfterAttr("role"));
        var membersAfter = Strings(c.AfterAttr("members")).Concat(Strings(c.AfterAttr("member"))).ToHashSet(StringComparer.Ordinal);
        membersAfter.ExceptWith(Strings(c.BeforeAttr("members")).Concat(Strings(c.BeforeAttr("member"))));
        if (c.Type.EndsWith("_iam_policy", StringComparison.Ordinal))
        {
            var grantsAfter = GcpPolicyGrants(c.AfterAttr("policy_data"));
            grantsAfter.ExceptWith(GcpPolicyGrants(c.BeforeAttr("policy_data")));
            if (grantsAfter.Count > 0)
            {
                c.Add(RiskKinds.IamPrivilegeExpansion, "grants " + Summarise(grantsAfter.Order(StringComparer.Ordinal)));
            }

            return;
        }

        if (membersAfter.Count > 0 || (c.Before is not null && Text(c.BeforeAttr("role")) != role))
        {
            c.Add(RiskKinds.IamPrivilegeExpansion, $"grants {role ?? KnownAfterApply} to {(membersAfter.Count > 0 ? Summarise(membersAfter.Order(StringComparer.Ordinal)) : "existing members")}");
        }
    }

    private static HashSet<string> GcpPolicyGrants(JsonElement? policyData)
    {
        var grants = new HashSet<string>(StringComparer.Ordinal);
        if (policyData is not { ValueKind: JsonValueKind.String } s || string.IsNullOrWhiteSpace(s.GetString()))
        {
            return grants;
        }

        try
        {
            using var document = JsonDocument.Parse(s.GetString()!);
            foreach (var binding in Items(Attr(document.RootElement, "bindings")))
            {
                var role = Text(Attr(binding, "role"));
                foreach (var member in Strings(Attr(binding, "members")))
                {
                    grants.Add($"{role} to {member}");
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a placeholder or template): nothing to compare.
        }

        return grants;
    }

    private static void AzureIam(in Context c)
    {
        if (c.Type == "azurerm_role_assignment")
        {
            if (c.Before is null || Text(c.BeforeAttr("principal_id")) != Text(c.AfterAttr("principal_id")) || Text(c.BeforeAttr("role_definition_name")) != Text(c.AfterAttr("role_definition_name")))
            {
                var role = Text(c.AfterAttr("role_definition_name")) ?? Text(c.AfterAttr("role_definition_id")) ?? KnownAfterApply;
                c.Add(RiskKinds.IamPrivilegeExpansion, $"assigns {role} to {c.Show("principal_id", Text(c.AfterAttr("principal_id")))} on {c.Show("scope", Text(c.AfterAttr("scope")))}");
            }

            return;
        }

        var actionsAfter = Items(c.AfterAttr("permissions")).SelectMany(p => Strings(Attr(p, "actions"))).ToHashSet(StringComparer.Ordinal);
        actionsAfter.ExceptWith(Items(c.BeforeAttr("permissions")).SelectMany(p => Strings(Attr(p, "actions"))));
        if (actionsAfter.Count > 0)
        {
            c.Add(RiskKinds.IamPrivilegeExpansion, "role definition allows " + Summarise(actionsAfter.Order(StringComparer.Ordinal)));
        }
    }
}
