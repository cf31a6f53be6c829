using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Freezes;
using Airlock.Application.Views;
using Airlock.Domain.Storage;

namespace Airlock.Cli.Commands;

/// <summary>`airlock freeze start|stop|list`: incident freezes that stop applies to an environment until lifted.</summary>
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
        var command = new Command("start", "Freeze an environment now.");
        foreach (var option in new Option[] { envOption, reasonOption, asOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var freeze = await new FreezeService(services).StartAsync(parseResult.GetValue(envOption)!, parseResult.GetValue(reasonOption)!, GovernedCommand.Actor(parseResult.GetValue(asOption)), cancellationToken);
            Console.WriteLine($"{freeze.Environment} is frozen (by {freeze.StartedBy}: {freeze.Reason}). Lift it with: airlock freeze stop --env {freeze.Environment}");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command Stop()
    {
        var envOption = new Option<string>("--env") { Description = "The environment to unfreeze.", Required = true };
        var asOption = GovernedCommand.AsOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("stop", "Lift an environment's incident freeze.");
        foreach (var option in new Option[] { envOption, asOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var freeze = await new FreezeService(services).StopAsync(parseResult.GetValue(envOption)!, GovernedCommand.Actor(parseResult.GetValue(asOption)), cancellationToken);
            Console.WriteLine($"{freeze.Environment} is no longer frozen (freeze by {freeze.StartedBy} since {StoreCommandSupport.Instant(freeze.StartedAt)} lifted by {freeze.StoppedBy}).");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command List()
    {
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("list", "Active incident freezes first, then recent ones.");
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var freezes = await services.Store.Freezes.ListAsync(50, cancellationToken);
            if (parseResult.GetValue(jsonOption))
            {
                GovernedCommand.WriteJson(new JsonObject { ["freezes"] = new JsonArray([.. freezes.Select(f => (JsonNode)JsonViews.Freeze(f))]) });
                return ExitCodes.Ok;
            }

            if (freezes.Count == 0)
            {
                Console.WriteLine("no incident freezes");
            }

            foreach (var f in freezes)
            {
                Console.WriteLine(f.IsActive
                    ? $"ACTIVE  {f.Environment,-10} since {StoreCommandSupport.Instant(f.StartedAt)} by {f.StartedBy}: {f.Reason}"
                    : $"lifted  {f.Environment,-10} {StoreCommandSupport.Instant(f.StartedAt)} → {StoreCommandSupport.Instant(f.StoppedAt!.Value)} by {f.StartedBy} / {f.StoppedBy}: {f.Reason}");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
