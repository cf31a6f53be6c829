using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Airlock.Application;
using Airlock.Application.Apply;
using Airlock.Cli.Client;
using Airlock.Domain.Runs;
using Airlock.Engines.Processes;

namespace Airlock.Cli.Commands;

/// <summary>`airlock apply PLAN_ID`: the governed apply, from validation to evidence (here, or on a server's workers with --server).</summary>
internal static partial class ApplyCommand
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
        var serverOption = ServerClient.ServerOption();
        var command = new Command("apply", "Apply an approved plan. Exit 0 applied and verified, 3 refused before anything changed, 1 failed after starting, 130 cancelled, 2 bad input.");
        command.Arguments.Add(planArgument);
        foreach (var option in new Option[] { breakGlassOption, incidentOption, reasonOption, asOption, jsonOption, databaseOption, serverOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(serverOption) is not { } server)
            {
                return ApplyHereAsync(parseResult, cancellationToken);
            }

            if (parseResult.GetValue(asOption) is not null)
            {
                return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--as does not apply with --server: the server applies as the actor of the token in " + ServerClient.TokenVariable));
            }

            if (!parseResult.GetValue(breakGlassOption) && (parseResult.GetValue(incidentOption) is not null || parseResult.GetValue(reasonOption) is not null))
            {
                return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--incident and --reason belong to --break-glass"));
            }

            var breakGlass = parseResult.GetValue(breakGlassOption) ? new { incident = parseResult.GetValue(incidentOption), reason = parseResult.GetValue(reasonOption) } : null;
            return ServerClient.RunAsync(server, client => ApplyOnServerAsync(client, parseResult.GetValue(planArgument)!, breakGlass, parseResult.GetValue(jsonOption), cancellationToken));
        });
        return command;

        Task<int> ApplyHereAsync(ParseResult parseResult, CancellationToken cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
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
            return Output(ToJson(outcome), json);
        }, cancellationToken);
    }

    /// <summary>
    /// POST /api/applies (a worker on any replica runs it as the token's actor), then the run's log followed live and
    /// printed as the local apply prints it, then the outcome from GET /api/runs/{id} with the local exit codes.
    /// Ctrl+C stops following only: the apply goes on on the server (airlock cancel RUN_ID --server URL stops it).
    /// </summary>
    private static async Task<int> ApplyOnServerAsync(ServerClient client, string planId, object? breakGlass, bool json, CancellationToken cancellationToken)
    {
        var accepted = await client.PostAsync("api/applies", new { plan_id = planId, break_glass = breakGlass }, cancellationToken);
        var runId = (string)accepted["run_id"]!;
        var writer = json ? Console.Error : Console.Out;
        writer.WriteLine($"  · apply of {planId} requested from {client.BaseAddress} as run {runId}; a server worker runs it");
        JsonObject end;
        // Ctrl+C / SIGTERM end the following, not the process mid-line (System.CommandLine leaves signals to commands).
        using var stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            stopFollowing.Cancel();
        }

        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        try
        {
            end = await client.FollowLogAsync(runId, (type, data) =>
            {
                if (type != "message")
                {
                    return;
                }

                var line = (string?)data["line"] ?? string.Empty;
                if ((string?)data["stream"] != "airlock")
                {
                    writer.WriteLine("  │ " + line);
                }
                else if (LoggedTransition().Match(line) is { Success: true } transition)
                {
                    // RunLogRecorder writes "from → to: detail"; shown as ConsoleApplyObserver shows a transition.
                    writer.WriteLine($"▸ {transition.Groups["to"].Value,-20} {transition.Groups["detail"].Value}");
                }
                else
                {
                    writer.WriteLine($"  · {line}");
                }
            }, stopFollowing.Token);
        }
        catch (OperationCanceledException) when (stopFollowing.IsCancellationRequested)
        {
            return GovernedCommand.Fail(ExitCodes.Cancelled, $"stopped following run {runId}; the apply goes on on the server (airlock run show {runId} --server {client.BaseAddress}; airlock cancel {runId} --server {client.BaseAddress} stops it)");
        }

        if ((string?)end["state"] is null)
        {
            // The request ended without a run: the worker refused it before starting (as a local apply refuses), or it was abandoned.
            var outcome = (string?)end["outcome"] ?? "no outcome recorded";
            return outcome.StartsWith(NotStarted, StringComparison.Ordinal)
                ? GovernedCommand.Fail(ExitCodes.Refused, "refused: " + outcome[NotStarted.Length..])
                : GovernedCommand.Fail(ExitCodes.Failed, $"the apply request of run {runId} ended without a run: {outcome}");
        }

        var run = await client.GetAsync($"api/runs/{Uri.EscapeDataString(runId)}", cancellationToken);
        var detail = run["detail"] as JsonObject;
        var state = (string)run["state"]!;
        return Output(
            new JsonObject
            {
                ["run_id"] = runId,
                ["state"] = state,
                ["exit_code"] = ExitCodeOf(RunStates.ParseWireName(state)),
                ["statement"] = run["statement"]?.DeepClone(),
                ["failure_class"] = run["failure_class"]?.DeepClone(),
                ["runbook"] = detail?["runbook"]?.DeepClone(),
                ["evidence_sequence"] = run["evidence_sequence"]?.DeepClone(),
                ["serial_before"] = detail?["serial_before"]?.DeepClone(),
                ["serial_after"] = detail?["serial_after"]?.DeepClone(),
                ["verification"] = detail?["verification"]?.DeepClone() ?? new JsonArray(),
                ["policy"] = detail?["policy"]?.DeepClone(),
            },
            json);
    }

    private const string NotStarted = "not started: ";

    /// <summary>The local apply's exit code for a run that ended in <paramref name="state"/> (as <see cref="ApplyOutcome.ExitCode"/>).</summary>
    public static int ExitCodeOf(RunState state) => state switch
    {
        RunState.Succeeded => ExitCodes.Ok,
        RunState.Rejected => ExitCodes.Refused,
        RunState.Cancelled => ExitCodes.Cancelled,
        _ => ExitCodes.Failed,
    };

    // One rendering for the local apply and --server (both give the ToJson shape).
    private static int Output(JsonObject outcome, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(outcome);
        }
        else
        {
            Render(outcome);
        }

        return (int)outcome["exit_code"]!;
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

    private static void Render(JsonObject outcome)
    {
        var state = (string)outcome["state"]!;
        var mark = RunStates.ParseWireName(state) switch
        {
            RunState.Succeeded => "✔ applied",
            RunState.Rejected => "✖ refused",
            RunState.Cancelled => "■ cancelled",
            _ => $"✖ {state}" + ((string?)outcome["failure_class"] is { } cls ? $" ({cls})" : string.Empty),
        };
        var runId = (string?)outcome["run_id"];
        Console.WriteLine();
        Console.WriteLine($"{mark}: {(string?)outcome["statement"]}");
        Console.WriteLine($"run {runId} · evidence #{(long?)outcome["evidence_sequence"]} · airlock run show {runId}");
    }

    [GeneratedRegex(@"^[a-z_]+ → (?<to>[a-z_]+): (?<detail>.*)$", RegexOptions.Singleline)]
    private static partial Regex LoggedTransition();
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
