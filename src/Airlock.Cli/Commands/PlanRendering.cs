using System.Text;
using System.Text.Json;

using Airlock.Application.Views;
using Airlock.Domain.Plans;

using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>Text, markdown and JSON renderings of a plan summary. Shows addresses, actions and paths only: never attribute values.</summary>
internal static class PlanRendering
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Changes that matter most come first; no-ops are only counted.
    private static readonly PlanAction[] ShownActions = [PlanAction.Delete, PlanAction.Replace, PlanAction.Create, PlanAction.Update, PlanAction.Forget, PlanAction.Read];

    /// <summary>
    /// The summary JSON, indented (the bytes <c>PlanSummaryJson.ToJson(summary).ToJsonString</c> gives with these options),
    /// streamed to <paramref name="output"/>: a 137k-resource summary built as one node tree and one string peaked at ~650 MB.
    /// </summary>
    public static void WriteJson(PlanSummary summary, Stream output)
    {
        PlanSummaryJson.WriteJson(summary, output, Indented);
        output.Write("\n"u8);
        output.Flush();
    }

    public static string CountsLine(PlanSummary summary) => PlanMarkdown.CountsLine(summary);

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

        console.MarkupLine($"[bold]Plan[/] ({Markup.Escape(PlanMarkdown.Source(summary))}): {Markup.Escape(CountsLine(summary))}");
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
                    table.AddRow(new Markup($"[{Colour(action)}]{Markup.Escape(action.ToWire())}[/]"), new Text(resource.Address), new Text(resource.Type), new Text(PlanMarkdown.Notes(resource)));
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

    public static string Markdown(PlanSummary summary) => PlanMarkdown.Render(summary);

    private static string Source(PlanSummary summary) => PlanMarkdown.Source(summary);

    private static string Notes(ResourceChange r) => PlanMarkdown.Notes(r);

    private static string Colour(PlanAction action) => action switch
    {
        PlanAction.Delete => "red",
        PlanAction.Replace => "darkorange",
        PlanAction.Create => "green",
        PlanAction.Update => "yellow",
        _ => "grey",
    };
}
