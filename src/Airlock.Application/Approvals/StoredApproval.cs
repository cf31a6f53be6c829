using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Approvals;
using Airlock.Domain.Storage;

namespace Airlock.Application.Approvals;

/// <summary>A break-glass grant: an approver from the break-glass team allowed an emergency apply for an incident.</summary>
public sealed record BreakGlassGrant(string Approver, string IncidentId, string Reason, DateTimeOffset GrantedAt, DateTimeOffset ExpiresAt);

/// <summary>Maps approval decisions to and from the store's binding JSON.</summary>
public static class StoredApproval
{
    /// <summary>Decision name of a break-glass grant.</summary>
    public const string BreakGlassDecision = ApprovalRecord.BreakGlass;

    /// <summary>The JSON stored for an approval.</summary>
    public static string BindingJson(ApprovalBinding binding, IReadOnlyList<string> destroyAddresses, string? incident = null, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var node = new JsonObject
        {
            ["repository"] = binding.Repository,
            ["commit"] = binding.Commit,
            ["stack"] = binding.Stack,
            ["environment"] = binding.Environment,
            ["plan_digest"] = binding.PlanDigest,
            ["policy_digest"] = binding.PolicyDigest,
            ["approval_policy_version"] = binding.ApprovalPolicyVersion,
            ["destroy"] = new JsonArray([.. destroyAddresses.Select(a => (JsonNode)a)]),
        };
        if (incident is not null)
        {
            node["incident"] = incident;
        }

        if (reason is not null)
        {
            node["reason"] = reason;
        }

        return node.ToJsonString();
    }

    /// <summary>The approvals (decision "approved") among <paramref name="records"/>.</summary>
    public static IReadOnlyList<Approval> Approvals(IEnumerable<ApprovalRecord> records) =>
    [
        .. records.Where(r => r.Decision == ApprovalRecord.Approved).Select(r =>
        {
            var node = Parse(r);
            return new Approval(r.Approver, Binding(node), r.DecidedAt, r.ValidUntil, [.. node["destroy"]!.AsArray().Select(a => (string)a!)]);
        }),
    ];

    /// <summary>Break-glass grants among <paramref name="records"/>.</summary>
    public static IReadOnlyList<BreakGlassGrant> BreakGlassGrants(IEnumerable<ApprovalRecord> records) =>
    [
        .. records.Where(r => r.Decision == BreakGlassDecision).Select(r =>
        {
            var node = Parse(r);
            return new BreakGlassGrant(r.Approver, (string?)node["incident"] ?? string.Empty, (string?)node["reason"] ?? string.Empty, r.DecidedAt, r.ValidUntil);
        }),
    ];

    /// <summary>Rejections (decision "rejected") among <paramref name="records"/>, oldest first.</summary>
    public static IReadOnlyList<Rejection> Rejections(IEnumerable<ApprovalRecord> records) =>
    [
        .. records.Where(r => r.Decision == ApprovalRecord.Rejected).Select(r => new Rejection(r.Approver, (string?)Parse(r)["reason"] ?? string.Empty, r.DecidedAt)),
    ];

    private static ApprovalBinding Binding(JsonNode node) => new(
        (string)node["repository"]!,
        (string)node["commit"]!,
        (string)node["stack"]!,
        (string)node["environment"]!,
        (string)node["plan_digest"]!,
        (string)node["policy_digest"]!,
        (string)node["approval_policy_version"]!);

    private static JsonNode Parse(ApprovalRecord record)
    {
        try
        {
            return JsonNode.Parse(record.BindingJson) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"approval {record.Id} of plan {record.PlanId} has an unreadable binding: {e.Message}", e);
        }
    }
}
