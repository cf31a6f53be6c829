using System.Text.Json.Nodes;
using Airlock.Domain.Serialization;

namespace Airlock.Domain.Policy;

/// <summary>The outcome of one policy rule.</summary>
public enum RuleOutcome
{
    /// <summary>The rule is satisfied.</summary>
    Pass,

    /// <summary>The rule is violated: the change may not proceed.</summary>
    Fail,

    /// <summary>Worth a reviewer's attention, but does not block.</summary>
    Warn,
}

/// <summary>The overall decision of a policy evaluation.</summary>
public enum PolicyDecision
{
    /// <summary>No rule failed.</summary>
    Allow,

    /// <summary>At least one rule failed.</summary>
    Deny,
}

/// <summary>One rule's verdict, with a stable id and a message meant for people.</summary>
public sealed record RuleResult(string Id, RuleOutcome Result, string Message)
{
    /// <summary>The wire name of <see cref="Result"/>: pass, fail or warn.</summary>
    public string ResultName => Result.ToString().ToLowerInvariant();
}

/// <summary>
/// The machine-readable policy decision of DESIGN.md §2: the decision, which bundle decided it
/// (name + digest of the rule sources), a digest of the input it saw, and one entry per rule.
/// It is stored with the plan and bound into approvals through <see cref="Digest"/>.
/// </summary>
public sealed record PolicyResult(string Phase, string Bundle, string BundleDigest, string InputDigest, IReadOnlyList<RuleResult> Rules)
{
    /// <summary>Deny when any rule failed; warnings never block.</summary>
    public PolicyDecision Decision => Rules.Any(r => r.Result == RuleOutcome.Fail) ? PolicyDecision.Deny : PolicyDecision.Allow;

    /// <summary>The stable JSON form (rules in evaluation order).</summary>
    public JsonObject ToJson() => new()
    {
        ["phase"] = Phase,
        ["decision"] = Decision.ToString().ToLowerInvariant(),
        ["bundle"] = Bundle,
        ["bundle_digest"] = BundleDigest,
        ["input_digest"] = InputDigest,
        ["rules"] = new JsonArray([.. Rules.Select(r => (JsonNode)new JsonObject
        {
            ["id"] = r.Id,
            ["result"] = r.ResultName,
            ["message"] = r.Message,
        })]),
    };

    /// <summary>sha256 of the canonical JSON form: what an approval binds to.</summary>
    public string Digest => CanonicalJson.Sha256Digest(ToJson());
}
