namespace Airlock.Domain.Approvals;

/// <summary>The verdict on a set of approvals for one apply.</summary>
/// <param name="Satisfied">True when the apply may proceed as far as approvals go.</param>
/// <param name="Counted">Approvers whose approval counted.</param>
/// <param name="Problems">Why it is not satisfied, and why individual approvals did not count; one line each.</param>
public sealed record ApprovalVerdict(bool Satisfied, IReadOnlyList<string> Counted, IReadOnlyList<string> Problems);

/// <summary>Why a person may not approve a plan.</summary>
public sealed record ApprovalRefusal(string Reason);

/// <summary>
/// Decides whether approvals authorise an apply (DESIGN.md §3 Validating, §4): bound to exactly
/// this change, unexpired, never the requester's own, from owners or required roles, enough
/// distinct people, every required role covered, and every protected destroy named.
/// Pure: the caller supplies teams, the clock reading and the approvals.
/// </summary>
public static class ApprovalGate
{
    /// <summary>
    /// Whether <paramref name="approver"/> may approve at all (checked when the approval is given,
    /// so a refused approval is never stored).
    /// </summary>
    public static ApprovalRefusal? CheckApprover(
        string approver,
        string requester,
        IReadOnlyList<string> stackOwners,
        ApprovalRequirement requirement,
        IReadOnlyDictionary<string, IReadOnlyList<string>> teams)
    {
        if (string.Equals(approver, requester, StringComparison.OrdinalIgnoreCase))
        {
            return new ApprovalRefusal($"{approver} requested this plan and cannot approve it (separation of duties)");
        }

        var eligibleTeams = stackOwners.Concat(requirement.Roles).Distinct(StringComparer.Ordinal).ToList();
        if (eligibleTeams.Count > 0 && !eligibleTeams.Any(team => IsMember(teams, team, approver)))
        {
            return new ApprovalRefusal($"{approver} is not in a team that may approve this stack ({string.Join(", ", eligibleTeams)})");
        }

        return null;
    }

    /// <summary>Evaluates the approvals recorded for a plan against the binding being applied.</summary>
    public static ApprovalVerdict Evaluate(
        ApprovalBinding binding,
        string requester,
        IReadOnlyList<string> stackOwners,
        ApprovalRequirement requirement,
        IReadOnlyDictionary<string, IReadOnlyList<string>> teams,
        IReadOnlyList<Approval> approvals,
        IReadOnlyList<string> protectedDestroys,
        DateTimeOffset now)
    {
        var problems = new List<string>();
        var valid = new List<Approval>();
        foreach (var approval in approvals)
        {
            var why = WhyNotCounted(approval, binding, requester, stackOwners, requirement, teams, now);
            if (why is null)
            {
                valid.Add(approval);
            }
            else
            {
                problems.Add($"approval by {approval.Approver} does not count: {why}");
            }
        }

        // One person counts once, whatever they clicked.
        var approvers = valid.Select(a => a.Approver).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (approvers.Count < requirement.Required)
        {
            problems.Add($"needs {requirement.Required} approval(s), has {approvers.Count}");
        }

        var uncovered = UncoveredRoles(requirement, teams, approvers);
        foreach (var role in uncovered)
        {
            problems.Add(requirement.SeparationOfDuties
                ? $"no distinct approver from team '{role}'"
                : $"no approver from team '{role}'");
        }

        var accepted = valid.SelectMany(a => a.DestroyAddresses).ToHashSet(StringComparer.Ordinal);
        foreach (var address in protectedDestroys.Where(a => !accepted.Contains(a)))
        {
            problems.Add($"destroys protected {address}: an approval must name it with --destroy");
        }

        var blocking = problems.Count(p => !p.StartsWith("approval by ", StringComparison.Ordinal));
        return new ApprovalVerdict(blocking == 0, approvers, problems);
    }

    private static string? WhyNotCounted(
        Approval approval,
        ApprovalBinding binding,
        string requester,
        IReadOnlyList<string> stackOwners,
        ApprovalRequirement requirement,
        IReadOnlyDictionary<string, IReadOnlyList<string>> teams,
        DateTimeOffset now)
    {
        if (approval.Binding != binding)
        {
            return "it was given for " + Difference(approval.Binding, binding);
        }

        if (now >= approval.ValidUntil)
        {
            return $"it expired at {approval.ValidUntil:u}";
        }

        if (now < approval.ApprovedAt)
        {
            return "it is dated in the future";
        }

        return CheckApprover(approval.Approver, requester, stackOwners, requirement, teams)?.Reason;
    }

    private static string Difference(ApprovalBinding given, ApprovalBinding current) =>
        given.Commit != current.Commit ? $"commit {Short(given.Commit)}, not {Short(current.Commit)}"
        : given.PlanDigest != current.PlanDigest ? "a different plan digest"
        : given.PolicyDigest != current.PolicyDigest ? "a different policy result"
        : given.ApprovalPolicyVersion != current.ApprovalPolicyVersion ? $"approval policy {given.ApprovalPolicyVersion}, now {current.ApprovalPolicyVersion}"
        : given.Stack != current.Stack || given.Environment != current.Environment ? $"{given.Stack}/{given.Environment}"
        : $"repository {given.Repository}";

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;

    // Roles are covered by a matching of approvers to roles; with separation of duties each
    // approver covers at most one role, so this is a small bipartite matching.
    private static List<string> UncoveredRoles(ApprovalRequirement requirement, IReadOnlyDictionary<string, IReadOnlyList<string>> teams, List<string> approvers)
    {
        if (!requirement.SeparationOfDuties)
        {
            return [.. requirement.Roles.Where(role => !approvers.Any(a => IsMember(teams, role, a)))];
        }

        var roleOf = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var uncovered = new List<string>();
        foreach (var role in requirement.Roles)
        {
            if (!TryAssign(role, new HashSet<string>(StringComparer.OrdinalIgnoreCase)))
            {
                uncovered.Add(role);
            }
        }

        return uncovered;

        bool TryAssign(string role, HashSet<string> visited)
        {
            foreach (var approver in approvers.Where(a => IsMember(teams, role, a)))
            {
                if (!visited.Add(approver))
                {
                    continue;
                }

                if (!roleOf.TryGetValue(approver, out var held) || TryAssign(held, visited))
                {
                    roleOf[approver] = role;
                    return true;
                }
            }

            return false;
        }
    }

    private static bool IsMember(IReadOnlyDictionary<string, IReadOnlyList<string>> teams, string team, string person) =>
        teams.TryGetValue(team, out var members) && members.Contains(person, StringComparer.OrdinalIgnoreCase);
}
