using System.Text.Json.Nodes;

using Airlock.Application.Workspace;
using Airlock.Domain.Approvals;
using Airlock.Domain.Plans;
using Airlock.Domain.Policy;
using Airlock.Domain.Serialization;
using Airlock.Policy;

namespace Airlock.Application.Policy;

/// <summary>
/// Evaluates the built-in rules and the workspace's custom JavaScript rules into one
/// <see cref="PolicyResult"/>, at plan time and again at apply time.
/// </summary>
public sealed class PolicyEvaluator(AirlockWorkspace workspace, JavaScriptRuleRunner runner)
{
    /// <summary>Names the built-in rule set; bump when a built-in rule changes meaning.</summary>
    public const string BuiltInBundle = "airlock-builtin/1";

    /// <summary>Custom rules of the workspace (empty when none are configured).</summary>
    public IReadOnlyList<CustomRule> CustomRules()
    {
        if (workspace.Config.Policies.CustomRulesPath is not { } relative)
        {
            return [];
        }

        var directory = Path.Combine(workspace.Root, relative);
        if (!Directory.Exists(directory))
        {
            throw new UserInputException($"policies.custom names {relative}, which does not exist in {workspace.Root}");
        }

        try
        {
            return CustomRule.LoadDirectory(directory);
        }
        catch (PolicyException e)
        {
            throw new UserInputException(e.Message);
        }
    }

    /// <summary>Built-in rules, then each custom rule (sorted by id), over the same context.</summary>
    public PolicyResult Evaluate(PolicyContext context, IReadOnlyList<Approval> approvals, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rules = new List<RuleResult>(BuiltInRules.Evaluate(context));
        var custom = CustomRules();
        var input = Input(context, approvals);
        foreach (var rule in custom.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            rules.Add(runner.Evaluate(rule, input, context.Now, cancellationToken));
        }

        var bundleNode = new JsonObject
        {
            ["builtin"] = BuiltInBundle,
            ["custom"] = new JsonObject(custom.OrderBy(r => r.Id, StringComparer.Ordinal).Select(r => KeyValuePair.Create(r.Id, (JsonNode?)CanonicalJson.Sha256Digest(JsonValue.Create(r.Source))))),
        };
        var bundle = custom.Count == 0 ? BuiltInBundle : $"{BuiltInBundle}+{custom.Count} custom";
        return new PolicyResult(
            context.Phase.ToString().ToLowerInvariant(),
            bundle,
            CanonicalJson.Sha256Digest(bundleNode),
            CanonicalJson.Sha256Digest(input),
            rules);
    }

    /// <summary>
    /// What a custom rule sees: phase, the plan summary, stack, environment, actor, approvals and the
    /// evaluation time. Nothing else: no file, network or clock access beyond this input.
    /// </summary>
    public static JsonObject Input(PolicyContext context, IReadOnlyList<Approval> approvals)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(approvals);
        var plan = PlanSummaryJson.ToJson(context.Plan);
        plan.Remove("artifact_digest");
        return new JsonObject
        {
            ["phase"] = context.Phase.ToString().ToLowerInvariant(),
            ["now"] = context.Now.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["actor"] = context.Requester,
            ["stack"] = new JsonObject
            {
                ["name"] = context.Stack.Name,
                ["path"] = context.Stack.Path,
                ["owners"] = new JsonArray([.. context.Stack.Owners.Select(o => (JsonNode)o)]),
            },
            ["environment"] = new JsonObject
            {
                ["name"] = context.Environment.Name,
                ["approvals_required"] = context.Environment.Approvals.Required,
            },
            ["plan"] = plan,
            ["plan_created_at"] = context.PlanCreatedAt.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["approvals"] = new JsonArray([.. approvals.Select(a => (JsonNode)new JsonObject
            {
                ["approver"] = a.Approver,
                ["approved_at"] = a.ApprovedAt.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["destroy"] = new JsonArray([.. a.DestroyAddresses.Select(d => (JsonNode)d)]),
            })]),
            ["break_glass"] = context.BreakGlass is { } b ? new JsonObject { ["incident"] = b.IncidentId, ["approver"] = b.Approver } : null,
        };
    }
}
