using System.Text;
using System.Text.Json;

using Airlock.Application.Views;
using Airlock.Domain.Plans;

using Spectre.Console;
using Spectre.Console.Rendering;

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
            WriteTable(console, $"Risks ({summary.Risks.Count})", ["kind", "address", "detail"], summary.Risks, risk => [risk.Kind, risk.Address, risk.Detail], _ => "red");
        }

        var changes = ShownActions.Append(PlanAction.NoOp)
            .SelectMany(action => summary.Resources.Where(r => r.Action == action && (r.Action != PlanAction.NoOp || r.PreviousAddress is not null || r.Importing is not null)))
            .ToList();
        if (changes.Count > 0)
        {
            WriteTable(console, "Changes", ["action", "address", "type", "notes"], changes, r => [r.Action.ToWire(), r.Address, r.Type, PlanMarkdown.Notes(r)], r => Colour(r.Action));
        }
        else
        {
            console.MarkupLine("No resource changes.");
        }

        if (summary.Drift.Count > 0)
        {
            WriteTable(console, $"Changed outside the tool ({summary.Drift.Count})", ["action", "address", "changed"], summary.Drift, d => [d.Action.ToWire(), d.Address, string.Join(", ", d.ChangedPaths.Take(8))], _ => null);
        }

        var outputs = summary.Outputs.Where(o => o.Action != PlanAction.NoOp).ToList();
        if (outputs.Count > 0)
        {
            WriteTable(console, "Outputs", ["action", "name", "value"], outputs, o => [o.Action.ToWire(), o.Name, o.DisplayValue ?? ""], _ => null);
        }

        console.WriteLine($"digest {PlanSummaryJson.Digest(summary)}");
    }

    // Spectre lays a table out whole, every cell measured and rendered before the first line: the
    // 137k-resource plan's tables took 11 s and ~550 MB. Tables longer than SpectreRows are written
    // here line by line instead, in the same square border, plain (no colour, no wrapping: a table
    // that long is read in a pager or with grep).
    private const int SpectreRows = 500;

    // Longer cells overflow their column rather than widen it for every row.
    private const int MaxColumnWidth = 100;

    private static void WriteTable<T>(IAnsiConsole console, string title, string[] columns, IReadOnlyList<T> items, Func<T, string[]> cells, Func<T, string?> firstCellStyle)
    {
        if (items.Count > SpectreRows)
        {
            WriteLongTable(console.Profile.Out.Writer, title, columns, items, cells);
            return;
        }

        var table = new Table().Title(title);
        foreach (var column in columns)
        {
            table.AddColumn(column);
        }

        foreach (var item in items)
        {
            var style = firstCellStyle(item);
            table.AddRow([.. cells(item).Select((text, i) => i == 0 && style is not null ? new Markup($"[{style}]{Markup.Escape(text)}[/]") : (IRenderable)new Text(text))]);
        }

        console.Write(table);
    }

    private static void WriteLongTable<T>(TextWriter output, string title, string[] columns, IReadOnlyList<T> items, Func<T, string[]> rawCells)
    {
        // One line per row: a value from a pretty-printed plan may hold line breaks.
        string[] Cells(T item) => [.. rawCells(item).Select(cell => cell.ReplaceLineEndings(" "))];
        var widths = columns.Select(c => c.Length).ToArray();
        foreach (var item in items)
        {
            var row = Cells(item);
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Min(MaxColumnWidth, Math.Max(widths[i], row[i].Length));
            }
        }

        string Rule(char left, char middle, char right) => left + string.Join(middle, widths.Select(w => new string('─', w + 2))) + right;
        var line = new StringBuilder();
        void Row(string[] row)
        {
            line.Clear().Append('│');
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(' ').Append(row[i].PadRight(widths[i])).Append(" │");
            }

            output.WriteLine(line);
        }

        var total = widths.Sum() + (3 * widths.Length) + 1;
        output.WriteLine(title.PadLeft((total + title.Length) / 2));
        output.WriteLine(Rule('┌', '┬', '┐'));
        Row(columns);
        output.WriteLine(Rule('├', '┼', '┤'));
        foreach (var item in items)
        {
            Row(Cells(item));
        }

        output.WriteLine(Rule('└', '┴', '┘'));
    }

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
