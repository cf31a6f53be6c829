using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Releases;
using Airlock.Application.Views;
using Airlock.Cli.Client;

namespace Airlock.Cli.Commands;

/// <summary>`airlock trace app:VERSION | infra:VERSION`: which application ran on which infrastructure, where and when.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var queryArgument = new Argument<string>("WHAT") { Description = "app:VERSION, or infra:VERSION (a tag, or a commit prefix of at least 7 characters)." };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("trace", "Which application version ran on which infrastructure version, where and when (deployments are tagged app:<v>-infra:<v>).");
        command.Arguments.Add(queryArgument);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.Options.Add(serverOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var query = parseResult.GetValue(queryArgument)!;
            if (parseResult.GetValue(serverOption) is { } server)
            {
                return ServerClient.RunAsync(server, async client =>
                    Output(await client.GetAsync($"api/trace/{Uri.EscapeDataString(query)}", cancellationToken), parseResult.GetValue(jsonOption)));
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
                Output(JsonViews.Trace(await new TraceService(services).TraceAsync(query, cancellationToken)), parseResult.GetValue(jsonOption)), cancellationToken);
        });
        return command;
    }

    // One rendering for the local store and --server (both give the JsonViews.Trace shape).
    private static int Output(JsonObject trace, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(trace);
            return ExitCodes.Ok;
        }

        var deployments = trace["deployments"]!.AsArray().Select(d => d!).ToList();
        var applies = trace["stack_applies"]!.AsArray().Select(s => s!).ToList();
        if (deployments.Count == 0 && applies.Count == 0)
        {
            Console.WriteLine($"nothing recorded for {(string?)trace["kind"]}:{(string?)trace["version"]}");
            return ExitCodes.Ok;
        }

        Console.WriteLine($"{"TAG",-36} {"APP",-10} {"ENV",-8} {"REGION",-14} {"OUTCOME",-12} {"RELEASE",-16} FINISHED");
        foreach (var d in deployments)
        {
            Console.WriteLine($"{(string?)d["tag"],-36} {(string?)d["application"],-10} {(string?)d["environment"],-8} {(string?)d["region"] ?? "-",-14} {(string?)d["outcome"],-12} {(string?)d["release_id"],-16} {(string?)d["finished_at"] ?? "-"}");
        }

        if (applies.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("stacks applied:");
            foreach (var s in applies)
            {
                Console.WriteLine($"  {(string?)s["environment"]}/{(string?)s["stack"]}{((string?)s["region"] is { } region ? "@" + region : "")}  run {(string?)s["run_id"] ?? "-"}  release {(string?)s["release_id"]}  (app {(string?)s["app_version"]}, infra {(string?)s["infra_version"]})");
            }
        }

        return ExitCodes.Ok;
    }
}
