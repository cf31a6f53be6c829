using System.Text;
using System.Text.Json;

using Airlock.Domain.Plans;

using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>Text, markdown and JSON renderings of a plan summary. Shows addresses, actions and paths only: never attribute values.</summary>
internal static class PlanRendering
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Changes that matter most come first; no-ops are only counted.
    private static readonly PlanAction[] ShownActions = [PlanAction.Delete, PlanAction.Replace, PlanAction.Create, PlanAction.Update, PlanAction.Forget, PlanAction.Read];

    public static string Json(PlanSummary summary) => PlanSummaryJson.ToJson(summary).ToJsonString(Indented) + "\n";

    public static string CountsLine(PlanSummary summary)
    {
        var c = summary.Counts;
        return $"{c.Create} to create, {c.Update} to update, {c.Replace} to replace, {c.Delete} to delete, {c.Forget} to forget, {c.Read} to read, {c.NoOp} unchanged";
    }

    // Every cell is a Text widget: addresses and values contain '[' which Spectre would read as markup.
    public static void Text(PlanSummary summary)
    {
        var colour = !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = colour ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colour ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (Console.IsOutputRedirected)
        {
            // Piped output has no width; do not wrap long addresses.
            console.Profile.Width = 400;
        }

        console.MarkupLine($"[bold]Plan[/] ({Markup.Escape(Source(summary))}): {Markup.Escape(CountsLine(summary))}");
        if (summary.Errored)
        {
            console.MarkupLine("[red bold]The engine reported errors: this plan is incomplete.[/]");
        }

        if (summary.Risks.Count > 0)
        {
            var risks = new Table().Title($"Risks ({summary.Risks.Count})").AddColumns("kind", "address", "detail");
            foreach (var risk in summary.Risks)
            {
                risks.AddRow(new Markup($"[red]{Markup.Escape(risk.Kind)}[/]"), new Text(risk.Address), new Text(risk.Detail));
            }

            console.Write(risks);
        }

        var changes = summary.Resources.Where(r => r.Action != PlanAction.NoOp || r.PreviousAddress is not null || r.Importing is not null).ToList();
        if (changes.Count > 0)
        {
            var table = new Table().Title("Changes").AddColumns("action", "address", "type", "notes");
            foreach (var action in ShownActions.Append(PlanAction.NoOp))
            {
                foreach (var resource in changes.Where(r => r.Action == action))
                {
                    table.AddRow(new Markup($"[{Colour(action)}]{Markup.Escape(action.ToWire())}[/]"), new Text(resource.Address), new Text(resource.Type), new Text(Notes(resource)));
                }
            }

            console.Write(table);
        }
        else
        {
            console.MarkupLine("No resource changes.");
        }

        if (summary.Drift.Count > 0)
        {
            var drift = new Table().Title($"Changed outside the tool ({summary.Drift.Count})").AddColumns("action", "address", "changed");
            foreach (var entry in summary.Drift)
            {
                drift.AddRow(new Text(entry.Action.ToWire()), new Text(entry.Address), new Text(string.Join(", ", entry.ChangedPaths.Take(8))));
            }

            console.Write(drift);
        }

        var outputs = summary.Outputs.Where(o => o.Action != PlanAction.NoOp).ToList();
        if (outputs.Count > 0)
        {
            var table = new Table().Title("Outputs").AddColumns("action", "name", "value");
            foreach (var output in outputs)
            {
                table.AddRow(new Text(output.Action.ToWire()), new Text(output.Name), new Text(output.DisplayValue ?? ""));
            }

            console.Write(table);
        }

        console.WriteLine($"digest {PlanSummaryJson.Digest(summary)}");
    }

    public static string Markdown(PlanSummary summary)
    {
        var md = new StringBuilder();
        md.Append("### Plan: ").Append(CountsLine(summary)).Append('\n').Append('\n');
        md.Append('_').Append(Source(summary)).Append("_\n\n");
        if (summary.Errored)
        {
            md.Append("> [!CAUTION]\n> The engine reported errors: this plan is incomplete.\n\n");
        }

        if (summary.Risks.Count > 0)
        {
            md.Append("#### :warning: Risks (").Append(summary.Risks.Count).Append(")\n\n| kind | address | detail |\n|---|---|---|\n");
            foreach (var risk in summary.Risks)
            {
                md.Append("| `").Append(risk.Kind).Append("` | `").Append(Cell(risk.Address)).Append("` | ").Append(Cell(risk.Detail)).Append(" |\n");
            }

            md.Append('\n');
        }

        foreach (var action in ShownActions)
        {
            var group = summary.Resources.Where(r => r.Action == action).ToList();
            if (group.Count == 0)
            {
                continue;
            }

            md.Append("<details").Append(action is PlanAction.Delete or PlanAction.Replace ? " open" : "").Append("><summary><b>")
              .Append(action.ToWire()).Append("</b> (").Append(group.Count).Append(")</summary>\n\n| address | type | notes |\n|---|---|---|\n");
            foreach (var resource in group)
            {
                md.Append("| `").Append(Cell(resource.Address)).Append("` | `").Append(Cell(resource.Type)).Append("` | ").Append(Cell(Notes(resource))).Append(" |\n");
            }

            md.Append("\n</details>\n\n");
        }

        if (summary.Drift.Count > 0)
        {
            md.Append("<details><summary><b>changed outside the tool</b> (").Append(summary.Drift.Count).Append(")</summary>\n\n| action | address |\n|---|---|\n");
            foreach (var entry in summary.Drift)
            {
                md.Append("| ").Append(entry.Action.ToWire()).Append(" | `").Append(Cell(entry.Address)).Append("` |\n");
            }

            md.Append("\n</details>\n\n");
        }

        var outputs = summary.Outputs.Where(o => o.Action != PlanAction.NoOp).ToList();
        if (outputs.Count > 0)
        {
            md.Append("<details><summary><b>outputs</b> (").Append(outputs.Count).Append(")</summary>\n\n| action | name | value |\n|---|---|---|\n");
            foreach (var output in outputs)
            {
                md.Append("| ").Append(output.Action.ToWire()).Append(" | `").Append(Cell(output.Name)).Append("` | ").Append(Cell(output.DisplayValue ?? "")).Append(" |\n");
            }

            md.Append("\n</details>\n\n");
        }

        md.Append("<sub>summary digest `").Append(PlanSummaryJson.Digest(summary)).Append('`');
        if (summary.ArtifactDigest is not null)
        {
            md.Append(" · artifact `").Append(summary.ArtifactDigest).Append('`');
        }

        md.Append("</sub>\n");
        return md.ToString();
    }

    private static string Source(PlanSummary summary) =>
        summary.Engine == "pulumi"
            ? "pulumi engine events"
            : $"format {summary.FormatVersion}" + (summary.ToolVersion is null ? "" : $", terraform/tofu {summary.ToolVersion}");

    private static string Notes(ResourceChange r)
    {
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

    private static string Colour(PlanAction action) => action switch
    {
        PlanAction.Delete => "red",
        PlanAction.Replace => "darkorange",
        PlanAction.Create => "green",
        PlanAction.Update => "yellow",
        _ => "grey",
    };
}
