using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Runs;
using Airlock.Cli.Client;

namespace Airlock.Cli.Commands;

/// <summary>`airlock cancel RUN_ID`: ask a queued or running apply to stop, as the environment's cancellation policy allows (local store or --server).</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        var runArgument = new Argument<string>("RUN_ID") { Description = "The run to stop." };
        var reasonOption = new Option<string?>("--reason") { Description = "Why (recorded with the run)." };
        var asOption = GovernedCommand.AsOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("cancel", "Ask a queued or running apply to stop gracefully. Exit 0 requested, 3 refused (not allowed, or the run already ended), 2 unknown run.");
        command.Arguments.Add(runArgument);
        command.Options.Add(reasonOption);
        command.Options.Add(asOption);
        command.Options.Add(databaseOption);
        command.Options.Add(serverOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var runId = parseResult.GetValue(runArgument)!;
            var reason = parseResult.GetValue(reasonOption) ?? string.Empty;
            if (parseResult.GetValue(serverOption) is { } server)
            {
                if (parseResult.GetValue(asOption) is not null)
                {
                    return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--as does not apply with --server: the server cancels as the actor of the token in " + ServerClient.TokenVariable));
                }

                return ServerClient.RunAsync(server, async client =>
                {
                    var request = await ServerClient.UnlessUnknownAsync(
                        client.PostAsync($"api/runs/{Uri.EscapeDataString(runId)}/cancel", new { reason }, cancellationToken), $"unknown run '{runId}' (airlock runs lists them)");

                    return Requested((string)request["run_id"]!, (string)request["actor"]!, (string?)request["reason"] ?? string.Empty);
                });
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var request = await new CancelService(services).RequestAsync(runId, GovernedCommand.Actor(parseResult.GetValue(asOption)), reason, cancellationToken);
                return Requested(request.RunId, request.Actor, request.Reason);
            }, cancellationToken);
        });
        return command;
    }

    private static int Requested(string runId, string actor, string reason)
    {
        Console.WriteLine($"Cancel of {runId} requested by {actor} ({reason}); the run stops gracefully and records how it ended (airlock run show {runId}).");
        return ExitCodes.Ok;
    }
}
