namespace Airlock.Domain.Plans;

/// <summary>One reason a fresh plan differs from the approved one.</summary>
/// <param name="Kind">Stable machine name (delete_added, risk_added, target_changed...).</param>
/// <param name="Address">The resource concerned, or null for plan-wide reasons.</param>
/// <param name="Detail">A sentence for people.</param>
/// <param name="Material">Whether this reason alone makes the delta material.</param>
public sealed record MaterialityReason(string Kind, string? Address, string Detail, bool Material);

/// <summary>The verdict of <see cref="Materiality.Compare"/>.</summary>
public sealed record MaterialityResult(bool IsMaterial, IReadOnlyList<MaterialityReason> Reasons);

/// <summary>
/// Material equivalence (DESIGN.md §3): compares normalised summaries, never raw text. A fresh
/// plan is equivalent when it does nothing the approver did not see, apart from tag-only,
/// description-only and output-only differences.
/// </summary>
public static class Materiality
{
    private static readonly string[] DescriptionAttributes = ["description"];

    /// <summary>Compares the approved summary with a freshly computed one.</summary>
    public static MaterialityResult Compare(PlanSummary approved, PlanSummary fresh)
    {
        var reasons = new List<MaterialityReason>();
        // The first entry of an address wins, as before; no grouping kept per resource (a 137k-resource plan).
        var approvedByAddress = new Dictionary<string, ResourceChange>(approved.Resources.Count, StringComparer.Ordinal);
        foreach (var resource in approved.Resources)
        {
            approvedByAddress.TryAdd(Key(resource), resource);
        }

        if (approved.Target is { } a && fresh.Target is { } f)
        {
            CompareTarget("account", a.Account, f.Account, reasons);
            CompareTarget("region", a.Region, f.Region, reasons);
            CompareTarget("environment", a.Environment, f.Environment, reasons);
        }
        else if ((approved.Target is null) != (fresh.Target is null))
        {
            reasons.Add(new MaterialityReason("target_changed", null, "target metadata present in only one of the plans", true));
        }

        var destructiveApproved = approved.Resources.Count(IsDestructive);
        var destructiveFresh = fresh.Resources.Count(IsDestructive);
        if (destructiveFresh > destructiveApproved)
        {
            reasons.Add(new MaterialityReason("destructive_grew", null, $"deletes and replacements grow from {destructiveApproved} to {destructiveFresh}", true));
        }

        foreach (var resource in fresh.Resources)
        {
            approvedByAddress.TryGetValue(Key(resource), out var before);
            var address = resource.Address;
            if (IsDestructive(resource) && (before is null || !IsDestructive(before)))
            {
                reasons.Add(new MaterialityReason(resource.Action == PlanAction.Delete ? "delete_added" : "replace_added", address, $"{address} is now {resource.Action.ToWire()} (approved: {before?.Action.ToWire() ?? "absent"})", true));
                continue;
            }

            if (resource.Action == PlanAction.NoOp && resource.Importing is null && resource.PreviousAddress is null)
            {
                continue;
            }

            if (before is null || before.Action != resource.Action)
            {
                if (resource.TagOnly)
                {
                    reasons.Add(new MaterialityReason("tag_only", address, $"{address}: tag-only update not in the approved plan", false));
                }
                else
                {
                    reasons.Add(new MaterialityReason("action_changed", address, $"{address} is now {resource.Action.ToWire()} (approved: {before?.Action.ToWire() ?? "absent"})", true));
                }

                continue;
            }

            var newPaths = resource.ChangedPaths.Except(before.ChangedPaths, StringComparer.Ordinal).ToList();
            var materialPaths = newPaths.Where(p => !IsTagPath(p) && !DescriptionAttributes.Any(d => p == d || p.StartsWith(d + ".", StringComparison.Ordinal))).ToList();
            if (materialPaths.Count > 0)
            {
                reasons.Add(new MaterialityReason("attributes_changed", address, $"{address}: newly changing {string.Join(", ", materialPaths.Take(10))}", true));
            }
            else if (newPaths.Count > 0)
            {
                reasons.Add(new MaterialityReason("tag_or_description_only", address, $"{address}: only tags/description differ ({string.Join(", ", newPaths.Take(10))})", false));
            }
        }

        var approvedRisks = approved.Risks.Select(r => (r.Kind, r.Address)).ToHashSet();
        foreach (var risk in fresh.Risks.Where(r => !approvedRisks.Contains((r.Kind, r.Address))))
        {
            reasons.Add(new MaterialityReason("risk_added", risk.Address, $"new {risk.Kind}: {risk.Detail}", true));
        }

        var approvedOutputs = approved.Outputs.Select(o => (o.Name, o.Action)).ToHashSet();
        foreach (var output in fresh.Outputs.Where(o => o.Action != PlanAction.NoOp && !approvedOutputs.Contains((o.Name, o.Action))))
        {
            reasons.Add(new MaterialityReason("output_only", null, $"output {output.Name}: {output.Action.ToWire()}", false));
        }

        return new MaterialityResult(reasons.Any(r => r.Material), reasons);
    }

    private static string Key(ResourceChange r) => r.Deposed is null ? r.Address : $"{r.Address} (deposed {r.Deposed})";

    private static bool IsDestructive(ResourceChange r) => r.Action is PlanAction.Delete or PlanAction.Replace;

    private static bool IsTagPath(string path) => AttributeDiff.IsTagOnly([path]);

    private static void CompareTarget(string field, string? approved, string? fresh, List<MaterialityReason> reasons)
    {
        if (!string.Equals(approved, fresh, StringComparison.Ordinal))
        {
            reasons.Add(new MaterialityReason("target_changed", null, $"{field} changes from {approved ?? "(unset)"} to {fresh ?? "(unset)"}", true));
        }
    }
}
