using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Apply;
using Airlock.Domain.Runs;
using Airlock.Engines.Processes;

namespace Airlock.Cli.Commands;

/// <summary>`airlock apply PLAN_ID`: the governed apply, from validation to evidence.</summary>
internal static class ApplyCommand
{
    public static Command Create()
    {
        var planArgument = new Argument<string>("PLAN_ID") { Description = "The approved plan to apply." };
        var breakGlassOption = new Option<bool>("--break-glass") { Description = "Emergency apply under a break-glass grant (may bypass windows, freezes and approval counts; never locks, the destroy guard or evidence)." };
        var incidentOption = new Option<string?>("--incident") { Description = "The incident the break-glass apply is for." };
        var reasonOption = new Option<string?>("--reason") { Description = "Why the break-glass apply is needed." };
        var asOption = GovernedCommand.AsOption();
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("apply", "Apply an approved plan. Exit 0 applied and verified, 3 refused before anything changed, 1 failed after starting, 130 cancelled, 2 bad input.");
        command.Arguments.Add(planArgument);
        foreach (var option in new Option[] { breakGlassOption, incidentOption, reasonOption, asOption, jsonOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var actor = GovernedCommand.Actor(parseResult.GetValue(asOption));
            var json = parseResult.GetValue(jsonOption);
            var breakGlass = parseResult.GetValue(breakGlassOption)
                ? new BreakGlassUse(parseResult.GetValue(incidentOption), parseResult.GetValue(reasonOption))
                : null;
            if (breakGlass is null && (parseResult.GetValue(incidentOption) is not null || parseResult.GetValue(reasonOption) is not null))
            {
                throw new UserInputException("--incident and --reason belong to --break-glass");
            }

            using var cancellation = new GracefulCancellation(cancellationToken);
            var observer = new ConsoleApplyObserver(json ? Console.Error : Console.Out);
            var outcome = await new ApplyService(services).ApplyAsync(new ApplyRequest(parseResult.GetValue(planArgument)!, actor, breakGlass), observer, cancellation.Token);
            if (json)
            {
                GovernedCommand.WriteJson(ToJson(outcome));
            }
            else
            {
                Render(outcome);
            }

            return outcome.ExitCode;
        }, cancellationToken));
        return command;
    }

    public static JsonObject ToJson(ApplyOutcome outcome) => new()
    {
        ["run_id"] = outcome.RunId,
        ["state"] = outcome.State.WireName(),
        ["exit_code"] = outcome.ExitCode,
        ["statement"] = outcome.Statement,
        ["failure_class"] = outcome.FailureClass,
        ["runbook"] = outcome.RunbookId,
        ["evidence_sequence"] = outcome.EvidenceSequence,
        ["serial_before"] = outcome.SerialBefore,
        ["serial_after"] = outcome.SerialAfter,
        ["verification"] = new JsonArray([.. outcome.Verification.Select(c => (JsonNode)c.ToJson())]),
        ["policy"] = outcome.Policy?.ToJson(),
    };

    private static void Render(ApplyOutcome outcome)
    {
        var mark = outcome.State switch
        {
            RunState.Succeeded => "✔ applied",
            RunState.Rejected => "✖ refused",
            RunState.Cancelled => "■ cancelled",
            _ => $"✖ {outcome.State.WireName()}" + (outcome.FailureClass is { } cls ? $" ({cls})" : string.Empty),
        };
        Console.WriteLine();
        Console.WriteLine($"{mark}: {outcome.Statement}");
        Console.WriteLine($"run {outcome.RunId} · evidence #{outcome.EvidenceSequence} · airlock run show {outcome.RunId}");
    }
}

/// <summary>Prints each transition and note as it happens, with the tool's output indented beneath.</summary>
internal sealed class ConsoleApplyObserver(TextWriter writer) : IApplyObserver
{
    private readonly Lock _gate = new();

    public IOutputSink ToolOutput { get; } = new ConsoleToolSink(writer);

    public void Transition(RunTransition transition)
    {
        lock (_gate)
        {
            writer.WriteLine($"▸ {transition.To.WireName(),-20} {transition.Detail}");
        }
    }

    public void Note(string message)
    {
        lock (_gate)
        {
            writer.WriteLine($"  · {message}");
        }
    }
}
