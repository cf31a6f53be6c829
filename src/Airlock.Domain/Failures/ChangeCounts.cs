using System.Globalization;

namespace Airlock.Domain.Failures;

/// <summary>What an engine run reports it changed, and which started operations never finished.</summary>
public sealed record ChangeCounts(int Created, int Updated, int Deleted, int CreatesFailed, int UpdatesFailed, int DeletesFailed)
{
    /// <summary>Nothing reported.</summary>
    public static ChangeCounts None { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>True when at least one operation completed.</summary>
    public bool AnyCompleted => (Created + Updated + Deleted) > 0;

    /// <summary>True when at least one operation was started (completed or not).</summary>
    public bool AnyStarted => AnyCompleted || (CreatesFailed + UpdatesFailed + DeletesFailed) > 0;

    /// <summary>"3 created, 1 update failed"; empty when nothing is reported.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        Add(parts, Created, "created");
        Add(parts, Updated, "updated");
        Add(parts, Deleted, "deleted");
        AddFailed(parts, CreatesFailed, "create");
        AddFailed(parts, UpdatesFailed, "update");
        AddFailed(parts, DeletesFailed, "delete");
        return string.Join(", ", parts);
    }

    /// <summary>
    /// Counts the progress lines of <paramref name="output"/> (see <see cref="FailurePatterns.Progress"/>).
    /// An operation that started and never reported completion counts as failed. When the final
    /// "Apply complete!" totals are present they are authoritative for the completed counts.
    /// </summary>
    public static ChangeCounts FromOutput(string output)
    {
        var started = new Dictionary<ProgressKind, List<string>>
        {
            [ProgressKind.CreateStarted] = [],
            [ProgressKind.UpdateStarted] = [],
            [ProgressKind.DeleteStarted] = [],
        };
        var completed = new Dictionary<ProgressKind, List<string>>
        {
            [ProgressKind.CreateCompleted] = [],
            [ProgressKind.UpdateCompleted] = [],
            [ProgressKind.DeleteCompleted] = [],
        };
        (int Added, int Changed, int Destroyed)? totals = null;

        foreach (var pattern in FailurePatterns.Progress)
        {
            foreach (System.Text.RegularExpressions.Match match in pattern.Pattern.Matches(output))
            {
                if (pattern.Kind == ProgressKind.ApplyTotals)
                {
                    totals = (Int(match, "added"), Int(match, "changed"), Int(match, "destroyed"));
                }
                else if (started.TryGetValue(pattern.Kind, out var list))
                {
                    list.Add(match.Groups["addr"].Value);
                }
                else
                {
                    completed[pattern.Kind].Add(match.Groups["addr"].Value);
                }
            }
        }

        var created = completed[ProgressKind.CreateCompleted];
        var updated = completed[ProgressKind.UpdateCompleted];
        var deleted = completed[ProgressKind.DeleteCompleted];
        return new ChangeCounts(
            totals?.Added ?? created.Count,
            totals?.Changed ?? updated.Count,
            totals?.Destroyed ?? deleted.Count,
            Unfinished(started[ProgressKind.CreateStarted], created),
            Unfinished(started[ProgressKind.UpdateStarted], updated),
            Unfinished(started[ProgressKind.DeleteStarted], deleted));
    }

    private static int Unfinished(List<string> started, List<string> completed)
    {
        var remaining = new List<string>(completed);
        var unfinished = 0;
        foreach (var address in started)
        {
            // Remove one completion per start: a replace can create and delete the same address.
            if (!remaining.Remove(address))
            {
                unfinished++;
            }
        }

        return unfinished;
    }

    private static int Int(System.Text.RegularExpressions.Match match, string group) =>
        int.Parse(match.Groups[group].Value, NumberStyles.None, CultureInfo.InvariantCulture);

    private static void Add(List<string> parts, int count, string verb)
    {
        if (count > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count} {verb}"));
        }
    }

    private static void AddFailed(List<string> parts, int count, string noun)
    {
        if (count > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? string.Empty : "s")} failed"));
        }
    }
}
