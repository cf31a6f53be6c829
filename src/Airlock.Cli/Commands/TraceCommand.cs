using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Releases;
using Airlock.Application.Views;

namespace Airlock.Cli.Commands;

/// <summary>`airlock trace app:VERSION | infra:VERSION`: which application ran on which infrastructure, where and when.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var queryArgument = new Argument<string>("WHAT") { Description = "app:VERSION, or infra:VERSION (a tag, or a commit prefix of at least 7 characters)." };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("trace", "Which application version ran on which infrastructure version, where and when (deployments are tagged app:<v>-infra:<v>).");
        command.Arguments.Add(queryArgument);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var trace = await new TraceService(services).TraceAsync(parseResult.GetValue(queryArgument)!, cancellationToken);
            if (parseResult.GetValue(jsonOption))
            {
                GovernedCommand.WriteJson(JsonViews.Trace(trace));
                return ExitCodes.Ok;
            }

            if (trace.Deployments.Count == 0 && trace.StackApplies.Count == 0)
            {
                Console.WriteLine($"nothing recorded for {trace.Kind}:{trace.Version}");
                return ExitCodes.Ok;
            }

            Console.WriteLine($"{"TAG",-36} {"APP",-10} {"ENV",-8} {"REGION",-14} {"OUTCOME",-12} {"RELEASE",-16} FINISHED");
            foreach (var d in trace.Deployments)
            {
                Console.WriteLine($"{$"app:{d.AppVersion}-infra:{d.InfraVersion}",-36} {d.Application,-10} {d.Environment,-8} {d.Region ?? "-",-14} {d.Outcome,-12} {d.ReleaseId,-16} {(d.FinishedAt is { } f ? StoreCommandSupport.Instant(f) : "-")}");
            }

            if (trace.StackApplies.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine("stacks applied:");
                foreach (var s in trace.StackApplies)
                {
                    Console.WriteLine($"  {s.Environment}/{s.Stack}{(s.Region is null ? "" : "@" + s.Region)}  run {s.RunId ?? "-"}  release {s.ReleaseId}  (app {s.AppVersion}, infra {s.InfraVersion})");
                }
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
