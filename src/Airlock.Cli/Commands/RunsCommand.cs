using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Views;
using Airlock.Domain.Storage;

namespace Airlock.Cli.Commands;

/// <summary>`airlock runs` and `airlock run show RUN_ID`: what ran, how it ended, and its timeline.</summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var stackOption = new Option<string?>("--stack") { Description = "Only this stack." };
        var envOption = new Option<string?>("--env") { Description = "Only this environment." };
        var regionOption = new Option<string?>("--region") { Description = "Only this region." };
        var limitOption = new Option<int>("--limit") { Description = "At most this many (newest first).", DefaultValueFactory = _ => 20 };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("runs", "List runs, newest first.");
        foreach (var option in new Option[] { stackOption, envOption, regionOption, limitOption, jsonOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var limit = parseResult.GetValue(limitOption);
            if (limit < 1)
            {
                throw new UserInputException("--limit must be at least 1");
            }

            var runs = await services.Store.Runs.ListAsync(new RunQuery(parseResult.GetValue(stackOption), parseResult.GetValue(envOption), limit, parseResult.GetValue(regionOption)), cancellationToken);
            var rows = new List<(RunRecord Run, RunDetails? Details)>();
            foreach (var run in runs)
            {
                rows.Add((run, await services.Store.Runs.GetDetailsAsync(run.Id, cancellationToken)));
            }

            if (parseResult.GetValue(jsonOption))
            {
                GovernedCommand.WriteJson(new JsonObject { ["runs"] = new JsonArray([.. rows.Select(r => (JsonNode)RunJson(r.Run, r.Details))]) });
                return ExitCodes.Ok;
            }

            if (rows.Count == 0)
            {
                Console.WriteLine("no runs yet");
                return ExitCodes.Ok;
            }

            var now = services.Time.GetUtcNow();
            Console.WriteLine($"{"RUN",-16} {"STACK",-14} {"ENV",-8} {"REGION",-14} {"STATE",-22} {"BY",-24} {"AGE",-8} STATEMENT");
            foreach (var (run, details) in rows)
            {
                Console.WriteLine($"{run.Id,-16} {run.Stack,-14} {run.Environment,-8} {run.Region ?? "-",-14} {run.State + (details?.FailureClass is { } c ? $" ({c})" : string.Empty),-22} {details?.RequestedBy ?? "-",-24} {StoreCommandSupport.Age(now - run.CreatedAt),-8} {details?.Statement ?? string.Empty}");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command CreateRun()
    {
        var command = new Command("run", "Inspect one run.");
        var runArgument = new Argument<string>("RUN_ID") { Description = "The run." };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var show = new Command("show", "A run's timeline, outcome, failure statement and evidence.");
        show.Arguments.Add(runArgument);
        show.Options.Add(jsonOption);
        show.Options.Add(databaseOption);
        show.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var id = parseResult.GetValue(runArgument)!;
            var run = await services.Store.Runs.GetAsync(id, cancellationToken) ?? throw new UserInputException($"unknown run '{id}' (airlock runs lists them)");
            var details = await services.Store.Runs.GetDetailsAsync(id, cancellationToken);
            var events = await services.Store.Runs.ReadEventsAsync(id, cancellationToken);
            if (parseResult.GetValue(jsonOption))
            {
                var node = RunJson(run, details);
                node["events"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject
                {
                    ["at"] = StoreCommandSupport.Instant(e.At),
                    ["from"] = e.From,
                    ["to"] = e.To,
                    ["actor"] = e.Actor,
                    ["detail"] = e.Detail,
                })]);
                GovernedCommand.WriteJson(node);
                return ExitCodes.Ok;
            }

            Console.WriteLine($"Run {run.Id}: {run.Stack} in {run.Environment}{(run.Region is { } region ? $" ({region})" : string.Empty)}, {run.State}");
            if (details is not null)
            {
                Console.WriteLine($"  plan        {details.PlanId}");
                Console.WriteLine($"  requested   by {details.RequestedBy} at {StoreCommandSupport.Instant(run.CreatedAt)}");
                if (details.FailureClass is { } failure)
                {
                    Console.WriteLine($"  failure     {failure}");
                }

                if (details.Statement is { } statement)
                {
                    Console.WriteLine($"  statement   {statement}");
                }

                if (details.EvidenceSequence is { } sequence)
                {
                    Console.WriteLine($"  evidence    record #{sequence}: airlock evidence show {run.Id}");
                }
            }

            Console.WriteLine("Timeline:");
            var start = events.Count > 0 ? events[0].At : run.CreatedAt;
            foreach (var e in events)
            {
                var what = e.From == e.To ? $"  · {e.Detail}" : $"{e.To,-20} {e.Detail}";
                Console.WriteLine($"  {StoreCommandSupport.Instant(e.At)} +{StoreCommandSupport.Age(e.At - start),-7} {e.Actor,-22} {what}");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        command.Subcommands.Add(show);
        return command;
    }

    private static JsonObject RunJson(RunRecord run, RunDetails? details) => JsonViews.Run(run, details);
}
