using System.CommandLine;

using Airlock.Application;
using Airlock.Application.Runs;

namespace Airlock.Cli.Commands;

/// <summary>`airlock cancel RUN_ID`: ask a queued or running apply to stop, as the environment's cancellation policy allows.</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        var runArgument = new Argument<string>("RUN_ID") { Description = "The run to stop." };
        var reasonOption = new Option<string?>("--reason") { Description = "Why (recorded with the run)." };
        var asOption = GovernedCommand.AsOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("cancel", "Ask a queued or running apply to stop gracefully. Exit 0 requested, 3 refused (not allowed, or the run already ended), 2 unknown run.");
        command.Arguments.Add(runArgument);
        command.Options.Add(reasonOption);
        command.Options.Add(asOption);
        command.Options.Add(databaseOption);
        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var request = await new CancelService(services).RequestAsync(parseResult.GetValue(runArgument)!, GovernedCommand.Actor(parseResult.GetValue(asOption)), parseResult.GetValue(reasonOption) ?? string.Empty, cancellationToken);
            Console.WriteLine($"Cancel of {request.RunId} requested by {request.Actor} ({request.Reason}); the run stops gracefully and records how it ended (airlock run show {request.RunId}).");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
