using System.CommandLine;
using System.Globalization;
using System.Text.Json;

using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence list`: runs by stack, environment, time, actor and status.</summary>
internal static class EvidenceListCommand
{
    public static Command Create()
    {
        var stack = new Option<string?>("--stack") { Description = "Only this stack." };
        var env = new Option<string?>("--env") { Description = "Only this environment." };
        var since = EvidenceCli.SinceOption("Only runs active at or after this time (ISO 8601, or 12h / 7d back).");
        var actor = new Option<string?>("--actor") { Description = "Only runs requested by this actor." };
        var status = new Option<string?>("--status") { Description = "Only runs with this status (succeeded, failed, cancelled, blocked, in_progress)." };
        var json = EvidenceCli.JsonOption();
        var database = EvidenceCli.DatabaseOption();
        var server = EvidenceCli.ServerOption();
        var command = new Command("list", "List runs recorded in the evidence log.");
        foreach (var option in new Option[] { stack, env, since, actor, status, json, database, server })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var filter = new RunFilter(parseResult.GetValue(stack), parseResult.GetValue(env), EvidenceCli.ParseSince(parseResult.GetValue(since), TimeProvider.System), null, parseResult.GetValue(actor), parseResult.GetValue(status));
            var runs = await EvidenceCli.WithRecordsAsync(parseResult.GetValue(database), parseResult.GetValue(server), records => EvidenceQueries.Runs(records, filter, ct), ct);
            if (parseResult.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(runs, EvidenceCli.Json));
                return EvidenceCli.Ok;
            }

            if (runs.Count == 0)
            {
                Console.Out.WriteLine("no runs match");
                return EvidenceCli.Ok;
            }

            EvidenceText.Table(
                ["RUN", "STACK", "ENV", "ACTOR", "STATUS", "FAILURE", "FINISHED", "TAGS"],
                runs.Select(r => new[] { r.RunId, r.Stack, r.Environment, r.Actor ?? "-", r.Status, r.FailureClass ?? "-", r.FinishedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-", r.Tags.Count == 0 ? "-" : string.Join(',', r.Tags) }));
            return EvidenceCli.Ok;
        }));
        return command;
    }
}

/// <summary>Plain aligned text tables: stable for scripts that grep and for narrow terminals.</summary>
internal static class EvidenceText
{
    public static void Table(string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
        {
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
    }
}
