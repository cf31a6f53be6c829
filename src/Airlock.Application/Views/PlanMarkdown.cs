using System.Text;

using Airlock.Domain.Plans;

namespace Airlock.Application.Views;

/// <summary>
/// The markdown rendering of a plan summary (PR comments, `summarize --format markdown`, the API's
/// /api/plans/{id}/markdown): addresses, actions and paths only, never attribute values.
/// </summary>
public static class PlanMarkdown
{
    // Changes that matter most come first; no-ops are only counted.
    private static readonly PlanAction[] ShownActions = [PlanAction.Delete, PlanAction.Replace, PlanAction.Create, PlanAction.Update, PlanAction.Forget, PlanAction.Read];

    /// <summary>"N to create, N to update, …" in one line.</summary>
    public static string CountsLine(PlanSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var c = summary.Counts;
        return $"{c.Create} to create, {c.Update} to update, {c.Replace} to replace, {c.Delete} to delete, {c.Forget} to forget, {c.Read} to read, {c.NoOp} unchanged";
    }

    /// <summary>The whole summary as GitHub-flavoured markdown: counts, risks first, then changes grouped by action.</summary>
    public static string Render(PlanSummary summary)
    {
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        Render(summary, text);
        return text.ToString();
    }

    /// <summary>
    /// Writes what <see cref="Render(PlanSummary)"/> returns to <paramref name="writer"/> as it goes:
    /// a 137k-resource plan's markdown is ~14 MB, built whole it took `summarize --format markdown`
    /// to 150 MB.
    /// </summary>
    public static void Render(PlanSummary summary, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(writer);
        Write(summary, writer, maxLength: null, fullSummaryUrl: null);
    }

    /// <summary>
    /// The rendering in at most <paramref name="maxLength"/> characters, for places with a limit
    /// (GitHub refuses a comment over 65,536). The counts, the risks first, then as many resources
    /// as fit; a cut says so at the top, with what it left out and where the whole summary is; the
    /// digests at the end always stay.
    /// </summary>
    public static string Render(PlanSummary summary, int maxLength, string? fullSummaryUrl)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, MinimumLength);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        Write(summary, text, maxLength, fullSummaryUrl);
        return text.ToString();
    }

    /// <summary>The least <see cref="Render(PlanSummary, int, string?)"/> accepts: room for the counts, the notes of a cut and the digests.</summary>
    public const int MinimumLength = 4096;

    private static void Write(PlanSummary summary, TextWriter writer, int? maxLength, string? fullSummaryUrl)
    {
        var md = new StringBuilder();
        var written = 0L;
        void Flush(bool always = false)
        {
            // A limited rendering is small and stays whole until the end: the note of a cut goes near its top.
            if (maxLength is null && (always || md.Length >= 64 * 1024))
            {
                written += md.Length;
                writer.Write(md);
                md.Clear();
            }
        }

        var footer = Footer(summary);

        // Room kept for what follows a cut: its note, the "more" rows, the sections shown by count only, the footer.
        var limit = maxLength is { } max ? max - footer.Length - 1500 - (fullSummaryUrl?.Length ?? 0) : long.MaxValue;
        var cut = false;
        bool Fits(int rowStart)
        {
            if (written + md.Length <= limit)
            {
                return true;
            }

            md.Length = rowStart;
            cut = true;
            return false;
        }

        // One table row per item while the rendering fits; at the first that does not, a row saying how many are left out.
        int Rows<T>(IReadOnlyList<T> items, Action<StringBuilder, T> row, Func<int, string> more)
        {
            var shown = 0;
            foreach (var item in items)
            {
                var start = md.Length;
                row(md, item);
                if (!Fits(start))
                {
                    md.Append(more(items.Count - shown));
                    break;
                }

                shown++;
                Flush();
            }

            return shown;
        }

        md.Append("### Plan: ").Append(CountsLine(summary)).Append('\n').Append('\n');
        var noteAt = md.Length;
        md.Append('_').Append(Source(summary)).Append("_\n\n");
        if (summary.Errored)
        {
            md.Append("> [!CAUTION]\n> The engine reported errors: this plan is incomplete.\n\n");
        }

        var risksShown = 0;
        if (summary.Risks.Count > 0)
        {
            md.Append("#### :warning: Risks (").Append(summary.Risks.Count).Append(")\n\n| kind | address | detail |\n|---|---|---|\n");
            risksShown = Rows(
                summary.Risks,
                static (md, risk) => md.Append("| `").Append(risk.Kind).Append("` | `").Append(Cell(risk.Address)).Append("` | ").Append(Cell(risk.Detail)).Append(" |\n"),
                static left => $"| … | | {left} more risks not listed here |\n");
            md.Append('\n');
        }

        var resourcesShown = 0;
        var resourcesListed = 0;
        foreach (var action in ShownActions)
        {
            var group = summary.Resources.Where(r => r.Action == action).ToList();
            if (group.Count == 0)
            {
                continue;
            }

            resourcesListed += group.Count;
            if (cut)
            {
                md.Append("**").Append(action.ToWire()).Append("** (").Append(group.Count).Append("): not listed here\n\n");
                continue;
            }

            md.Append("<details").Append(action is PlanAction.Delete or PlanAction.Replace ? " open" : "").Append("><summary><b>")
              .Append(action.ToWire()).Append("</b> (").Append(group.Count).Append(")</summary>\n\n| address | type | notes |\n|---|---|---|\n");
            resourcesShown += Rows(
                group,
                static (md, resource) => md.Append("| `").Append(Cell(resource.Address)).Append("` | `").Append(Cell(resource.Type)).Append("` | ").Append(Cell(Notes(resource))).Append(" |\n"),
                static left => $"| … | | {left} more not listed here |\n");
            md.Append("\n</details>\n\n");
        }

        if (summary.Drift.Count > 0)
        {
            md.Append("<details><summary><b>changed outside the tool</b> (").Append(summary.Drift.Count).Append(")</summary>\n\n| action | address |\n|---|---|\n");
            Rows(
                summary.Drift,
                static (md, entry) => md.Append("| ").Append(entry.Action.ToWire()).Append(" | `").Append(Cell(entry.Address)).Append("` |\n"),
                static left => $"| … | {left} more not listed here |\n");

            md.Append("\n</details>\n\n");
        }

        var outputs = summary.Outputs.Where(o => o.Action != PlanAction.NoOp).ToList();
        if (outputs.Count > 0)
        {
            md.Append("<details><summary><b>outputs</b> (").Append(outputs.Count).Append(")</summary>\n\n| action | name | value |\n|---|---|---|\n");
            Rows(
                outputs,
                static (md, output) => md.Append("| ").Append(output.Action.ToWire()).Append(" | `").Append(Cell(output.Name)).Append("` | ").Append(Cell(output.DisplayValue ?? "")).Append(" |\n"),
                static left => $"| … | {left} more not listed here | |\n");

            md.Append("\n</details>\n\n");
        }

        md.Append(footer);
        if (cut)
        {
            var note = new StringBuilder("> [!NOTE]\n> Shortened to fit: lists ").Append(resourcesShown).Append(" of ").Append(resourcesListed).Append(" changed resources");
            if (risksShown < summary.Risks.Count)
            {
                note.Append(" and ").Append(risksShown).Append(" of ").Append(summary.Risks.Count).Append(" risks");
            }

            note.Append(". The whole summary: ").Append(fullSummaryUrl ?? "`airlock summarize`").Append("\n\n");
            md.Insert(noteAt, note);
        }

        Flush(always: true);
        if (maxLength is not null)
        {
            writer.Write(md);
        }
    }

    private static string Footer(PlanSummary summary)
    {
        var footer = new StringBuilder("<sub>summary digest `").Append(PlanSummaryJson.Digest(summary)).Append('`');
        if (summary.ArtifactDigest is not null)
        {
            footer.Append(" · artifact `").Append(summary.ArtifactDigest).Append('`');
        }

        return footer.Append("</sub>\n").ToString();
    }

    /// <summary>Where the summary came from (engine and format), for headings.</summary>
    public static string Source(PlanSummary summary) =>
        summary.Engine == "pulumi"
            ? "pulumi engine events"
            : $"format {summary.FormatVersion}" + (summary.ToolVersion is null ? "" : $", terraform/tofu {summary.ToolVersion}");

    /// <summary>The notes column of a resource change: replace order, forcing paths, moves, imports, changed paths.</summary>
    public static string Notes(ResourceChange r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var notes = new List<string>();
        if (r.ReplaceOrder == ReplaceOrder.CreateBeforeDestroy)
        {
            notes.Add("create before destroy");
        }

        if (r.ReplacePaths.Count > 0)
        {
            notes.Add("forced by " + string.Join(", ", r.ReplacePaths));
        }

        if (r.ActionReason is not null)
        {
            notes.Add(r.ActionReason);
        }

        if (r.PreviousAddress is not null)
        {
            notes.Add("moved from " + r.PreviousAddress);
        }

        if (r.Importing is { } importing)
        {
            notes.Add("import" + (importing.Id is null ? "" : " id " + importing.Id));
        }

        if (r.Deposed is not null)
        {
            notes.Add("deposed " + r.Deposed);
        }

        if (r.TagOnly)
        {
            notes.Add("tags only");
        }
        else if (r.Action == PlanAction.Update && r.ChangedPaths.Count > 0)
        {
            notes.Add(string.Join(", ", r.ChangedPaths.Take(6)) + (r.ChangedPaths.Count > 6 ? $" (+{r.ChangedPaths.Count - 6})" : ""));
        }

        return string.Join("; ", notes);
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal);
}
