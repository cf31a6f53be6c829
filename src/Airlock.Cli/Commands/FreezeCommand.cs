using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Freezes;
using Airlock.Application.Views;
using Airlock.Cli.Client;

namespace Airlock.Cli.Commands;

/// <summary>`airlock freeze start|stop|list`: incident freezes that stop applies to an environment until lifted (local store or --server).</summary>
internal static class FreezeCommand
{
    public static Command Create()
    {
        var command = new Command("freeze", "Start, stop or list incident freezes (applies are refused while one is active, unless break-glass).");
        command.Subcommands.Add(Start());
        command.Subcommands.Add(Stop());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Start()
    {
        var envOption = new Option<string>("--env") { Description = "The environment to freeze.", Required = true };
        var reasonOption = new Option<string>("--reason") { Description = "Why, e.g. \"SEV1 payments outage\".", Required = true };
        var asOption = GovernedCommand.AsOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("start", "Freeze an environment now.");
        foreach (var option in new Option[] { envOption, reasonOption, asOption, databaseOption, serverOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var (env, reason) = (parseResult.GetValue(envOption)!, parseResult.GetValue(reasonOption)!);
            if (parseResult.GetValue(serverOption) is { } server)
            {
                return parseResult.GetValue(asOption) is not null
                    ? Task.FromResult(AsWithServer())
                    : ServerClient.RunAsync(server, async client => Started(await client.PostAsync("api/freezes", new { env, reason }, cancellationToken)));
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
                Started(JsonViews.Freeze(await new FreezeService(services).StartAsync(env, reason, GovernedCommand.Actor(parseResult.GetValue(asOption)), cancellationToken))), cancellationToken);
        });
        return command;
    }

    private static Command Stop()
    {
        var envOption = new Option<string>("--env") { Description = "The environment to unfreeze.", Required = true };
        var asOption = GovernedCommand.AsOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("stop", "Lift an environment's incident freeze.");
        foreach (var option in new Option[] { envOption, asOption, databaseOption, serverOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = parseResult.GetValue(envOption)!;
            if (parseResult.GetValue(serverOption) is { } server)
            {
                return parseResult.GetValue(asOption) is not null
                    ? Task.FromResult(AsWithServer())
                    : ServerClient.RunAsync(server, async client => Stopped(await client.DeleteAsync($"api/freezes/{Uri.EscapeDataString(env)}", cancellationToken)));
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
                Stopped(JsonViews.Freeze(await new FreezeService(services).StopAsync(env, GovernedCommand.Actor(parseResult.GetValue(asOption)), cancellationToken))), cancellationToken);
        });
        return command;
    }

    private static Command List()
    {
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("list", "Active incident freezes first, then recent ones.");
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.Options.Add(serverOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(serverOption) is { } server)
            {
                return ServerClient.RunAsync(server, async client =>
                    Listed(await client.GetAsync("api/freezes" + ServerClient.Query(("limit", 50)), cancellationToken), parseResult.GetValue(jsonOption)));
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var freezes = await services.Store.Freezes.ListAsync(50, cancellationToken);
                return Listed(new JsonObject { ["freezes"] = new JsonArray([.. freezes.Select(f => (JsonNode)JsonViews.Freeze(f))]) }, parseResult.GetValue(jsonOption));
            }, cancellationToken);
        });
        return command;
    }

    private static int AsWithServer() =>
        GovernedCommand.Fail(ExitCodes.BadInput, "--as does not apply with --server: the server acts as the actor of the token in " + ServerClient.TokenVariable);

    // Renderings shared by the local store and --server: both give the JsonViews.Freeze shape.
    private static int Started(JsonObject freeze)
    {
        Console.WriteLine($"{(string?)freeze["environment"]} is frozen (by {(string?)freeze["started_by"]}: {(string?)freeze["reason"]}). Lift it with: airlock freeze stop --env {(string?)freeze["environment"]}");
        return ExitCodes.Ok;
    }

    private static int Stopped(JsonObject freeze)
    {
        Console.WriteLine($"{(string?)freeze["environment"]} is no longer frozen (freeze by {(string?)freeze["started_by"]} since {(string?)freeze["started_at"]} lifted by {(string?)freeze["stopped_by"]}).");
        return ExitCodes.Ok;
    }

    private static int Listed(JsonObject body, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(body);
            return ExitCodes.Ok;
        }

        var freezes = body["freezes"]!.AsArray();
        if (freezes.Count == 0)
        {
            Console.WriteLine("no incident freezes");
        }

        foreach (var f in freezes.Select(f => f!))
        {
            Console.WriteLine((bool)f["active"]!
                ? $"ACTIVE  {(string?)f["environment"],-10} since {(string?)f["started_at"]} by {(string?)f["started_by"]}: {(string?)f["reason"]}"
                : $"lifted  {(string?)f["environment"],-10} {(string?)f["started_at"]} → {(string?)f["stopped_at"]} by {(string?)f["started_by"]} / {(string?)f["stopped_by"]}: {(string?)f["reason"]}");
        }

        return ExitCodes.Ok;
    }
}
