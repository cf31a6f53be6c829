using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Views;
using Airlock.Cli.Client;
using Airlock.Domain.Storage;

namespace Airlock.Cli.Commands;

/// <summary>`airlock runs` and `airlock run show RUN_ID`: what ran, how it ended, and its timeline (local store or --server).</summary>
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
        var serverOption = ServerClient.ServerOption();
        var command = new Command("runs", "List runs, newest first.");
        foreach (var option in new Option[] { stackOption, envOption, regionOption, limitOption, jsonOption, databaseOption, serverOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var limit = parseResult.GetValue(limitOption);
            var (stack, env, region) = (parseResult.GetValue(stackOption), parseResult.GetValue(envOption), parseResult.GetValue(regionOption));
            if (limit < 1)
            {
                return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--limit must be at least 1"));
            }

            if (parseResult.GetValue(serverOption) is { } server)
            {
                return ServerClient.RunAsync(server, async client =>
                {
                    var body = await client.GetAsync("api/runs" + ServerClient.Query(("stack", stack), ("env", env), ("region", region), ("limit", limit)), cancellationToken);
                    return Output(body["runs"]!.AsArray(), parseResult.GetValue(jsonOption), TimeProvider.System.GetUtcNow());
                });
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var runs = await services.Store.Runs.ListAsync(new RunQuery(stack, env, limit, region), cancellationToken);
                var rows = new JsonArray();
                foreach (var run in runs)
                {
                    rows.Add(JsonViews.Run(run, await services.Store.Runs.GetDetailsAsync(run.Id, cancellationToken)));
                }

                return Output(rows, parseResult.GetValue(jsonOption), services.Time.GetUtcNow());
            }, cancellationToken);
        });
        return command;
    }

    public static Command CreateRun()
    {
        var command = new Command("run", "Inspect one run.");
        var runArgument = new Argument<string>("RUN_ID") { Description = "The run." };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var show = new Command("show", "A run's timeline, outcome, failure statement and evidence.");
        show.Arguments.Add(runArgument);
        show.Options.Add(jsonOption);
        show.Options.Add(databaseOption);
        show.Options.Add(serverOption);
        show.SetAction((parseResult, cancellationToken) =>
        {
            var id = parseResult.GetValue(runArgument)!;
            var unknown = $"unknown run '{id}' (airlock runs lists them)";
            if (parseResult.GetValue(serverOption) is { } server)
            {
                return ServerClient.RunAsync(server, async client =>
                {
                    var run = await ServerClient.UnlessUnknownAsync(client.GetAsync($"api/runs/{Uri.EscapeDataString(id)}", cancellationToken), unknown);

                    return Show(run, parseResult.GetValue(jsonOption));
                });
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var run = await services.Store.Runs.GetAsync(id, cancellationToken) ?? throw new UserInputException(unknown);
                var details = await services.Store.Runs.GetDetailsAsync(id, cancellationToken);
                var events = await services.Store.Runs.ReadEventsAsync(id, cancellationToken);
                return Show(JsonViews.RunWithEvents(run, details, events), parseResult.GetValue(jsonOption));
            }, cancellationToken);
        });
        command.Subcommands.Add(show);
        return command;
    }

    // One rendering for the local store and the server: both give the JsonViews shapes.
    private static int Output(JsonArray rows, bool json, DateTimeOffset now)
    {
        if (json)
        {
            GovernedCommand.WriteJson(new JsonObject { ["runs"] = rows.DeepClone() });
            return ExitCodes.Ok;
        }

        if (rows.Count == 0)
        {
            Console.WriteLine("no runs yet");
            return ExitCodes.Ok;
        }

        Console.WriteLine($"{"RUN",-16} {"STACK",-14} {"ENV",-8} {"REGION",-14} {"STATE",-22} {"BY",-24} {"AGE",-8} STATEMENT");
        foreach (var run in rows.Select(r => r!))
        {
            var state = (string?)run["state"] + ((string?)run["failure_class"] is { } c ? $" ({c})" : string.Empty);
            Console.WriteLine($"{(string?)run["run_id"],-16} {(string?)run["stack"],-14} {(string?)run["environment"],-8} {(string?)run["region"] ?? "-",-14} {state,-22} {(string?)run["requested_by"] ?? "-",-24} {StoreCommandSupport.Age(now - At(run["created_at"])),-8} {(string?)run["statement"] ?? string.Empty}");
        }

        return ExitCodes.Ok;
    }

    private static int Show(JsonObject run, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(run);
            return ExitCodes.Ok;
        }

        var region = (string?)run["region"] is { } r ? $" ({r})" : string.Empty;
        Console.WriteLine($"Run {(string?)run["run_id"]}: {(string?)run["stack"]} in {(string?)run["environment"]}{region}, {(string?)run["state"]}");
        if ((string?)run["plan_id"] is { } planId)
        {
            Console.WriteLine($"  plan        {planId}");
            Console.WriteLine($"  requested   by {(string?)run["requested_by"]} at {(string?)run["created_at"]}");
            if ((string?)run["failure_class"] is { } failure)
            {
                Console.WriteLine($"  failure     {failure}");
            }

            if ((string?)run["statement"] is { } statement)
            {
                Console.WriteLine($"  statement   {statement}");
            }

            if ((long?)run["evidence_sequence"] is { } sequence)
            {
                Console.WriteLine($"  evidence    record #{sequence}: airlock evidence show {(string?)run["run_id"]}");
            }
        }

        Console.WriteLine("Timeline:");
        var events = run["events"]?.AsArray() ?? [];
        var start = events.Count > 0 ? At(events[0]!["at"]) : At(run["created_at"]);
        foreach (var e in events.Select(e => e!))
        {
            var (from, to, detail) = ((string?)e["from"], (string?)e["to"], (string?)e["detail"]);
            var what = from == to ? $"  · {detail}" : $"{to,-20} {detail}";
            Console.WriteLine($"  {(string?)e["at"]} +{StoreCommandSupport.Age(At(e["at"]) - start),-7} {(string?)e["actor"],-22} {what}");
        }

        return ExitCodes.Ok;
    }

    private static DateTimeOffset At(JsonNode? instant) =>
        DateTimeOffset.Parse((string)instant!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
