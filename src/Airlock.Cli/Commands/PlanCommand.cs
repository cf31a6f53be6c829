using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Plans;
using Airlock.Domain.Plans;
using Airlock.Domain.Policy;

namespace Airlock.Cli.Commands;

/// <summary>`airlock plan STACK --env ENV [--region R]`: plan the current commit, store it encrypted, evaluate plan-time policy.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var stackArgument = new Argument<string>("STACK") { Description = "The stack to plan." };
        var envOption = new Option<string>("--env") { Description = "The environment to plan for.", Required = true };
        var regionOption = new Option<string?>("--region") { Description = "The target region: required when the environment rolls out in waves (one plan per region)." };
        var asOption = GovernedCommand.AsOption();
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("plan", "Plan a stack at the current commit and store the plan for approval. Exit 0 when policy allows it, 3 when policy denies it, 1 when planning failed, 2 for bad input.");
        command.Arguments.Add(stackArgument);
        command.Options.Add(envOption);
        command.Options.Add(regionOption);
        command.Options.Add(asOption);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var json = parseResult.GetValue(jsonOption);
            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var actor = GovernedCommand.Actor(parseResult.GetValue(asOption));
                using var cancellation = new GracefulCancellation(cancellationToken);
                var sink = new ConsoleToolSink(json ? Console.Error : Console.Out);
                var outcome = await new PlanService(services).PlanAsync(new PlanRequest(parseResult.GetValue(stackArgument)!, parseResult.GetValue(envOption)!, actor, parseResult.GetValue(regionOption)), sink, cancellation.Token);
                if (json)
                {
                    GovernedCommand.WriteJson(ToJson(outcome));
                }
                else
                {
                    Render(outcome);
                }

                return outcome.Policy.Decision == PolicyDecision.Deny ? ExitCodes.Refused : ExitCodes.Ok;
            }, cancellationToken);
        });
        return command;
    }

    public static JsonObject ToJson(PlanOutcome outcome)
    {
        var policy = outcome.Policy.ToJson();
        policy["digest"] = outcome.Policy.Digest;
        return new JsonObject
        {
            ["plan_id"] = outcome.Record.PlanId,
            ["stack"] = outcome.Record.Stack,
            ["environment"] = outcome.Record.Environment,
            ["region"] = outcome.Metadata.Region,
            ["commit"] = outcome.Record.Commit,
            ["requester"] = outcome.Metadata.Requester,
            ["digest"] = outcome.Record.PlanDigest,
            ["created_at"] = StoreCommandSupport.Instant(outcome.Record.CreatedAt),
            ["expires_at"] = StoreCommandSupport.Instant(outcome.Record.ExpiresAt),
            ["mode"] = outcome.Metadata.Mode,
            ["state_serial"] = outcome.Metadata.StateSerial,
            ["tool_version"] = outcome.Metadata.ToolVersion,
            ["guarded_destroys"] = new JsonArray([.. outcome.Metadata.GuardedDestroys.Select(a => (JsonNode)a)]),
            ["inputs"] = InputsJson(outcome.Metadata),
            ["summary"] = PlanSummaryJson.ToJson(outcome.Summary),
            ["policy"] = policy,
        };
    }

    // Where the inputs came from and their digest: never their values (some may be secrets).
    private static JsonObject? InputsJson(PlanMetadata metadata) => metadata.InputsDigest is null ? null : new JsonObject
    {
        ["digest"] = metadata.InputsDigest,
        ["from"] = new JsonObject((metadata.InputSources ?? new Dictionary<string, string>()).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
    };

    private static void Render(PlanOutcome outcome)
    {
        PlanRendering.Text(outcome.Summary);
        Console.WriteLine();
        Console.WriteLine($"Policy: {outcome.Policy.Decision.ToString().ToLowerInvariant()}");
        foreach (var rule in outcome.Policy.Rules.Where(r => r.Result != RuleOutcome.Pass))
        {
            Console.WriteLine($"  {rule.ResultName,-4} {rule.Id}: {rule.Message}");
        }

        if (outcome.Metadata.GuardedDestroys.Count > 0)
        {
            Console.WriteLine($"Guarded destroys (an approval must name each with --destroy): {string.Join(", ", outcome.Metadata.GuardedDestroys)}");
        }

        Console.WriteLine();
        var region = outcome.Metadata.Region is { } r ? $" ({r})" : string.Empty;
        Console.WriteLine($"Plan {outcome.Record.PlanId} for {outcome.Record.Stack} in {outcome.Record.Environment}{region} at {outcome.Record.Commit[..Math.Min(12, outcome.Record.Commit.Length)]}");
        Console.WriteLine($"  digest  {outcome.Record.PlanDigest}");
        if (outcome.Metadata.InputsDigest is { } inputs)
        {
            var from = string.Join(", ", (outcome.Metadata.InputSources ?? new Dictionary<string, string>()).Select(p => $"{p.Key} ← {p.Value}"));
            Console.WriteLine($"  inputs  {from} ({inputs})");
        }

        Console.WriteLine($"  expires {StoreCommandSupport.Instant(outcome.Record.ExpiresAt)}");
        Console.WriteLine(outcome.Policy.Decision == PolicyDecision.Deny
            ? "Policy denies this plan: fix the failing rules and plan again."
            : $"Next: airlock approve {outcome.Record.PlanId} (if {outcome.Record.Environment} needs approvals), then airlock apply {outcome.Record.PlanId}");
    }
}

/// <summary>Shows the tool's (already redacted) output, indented under Airlock's own lines.</summary>
internal sealed class ConsoleToolSink(TextWriter writer) : Airlock.Engines.Processes.IOutputSink
{
    private readonly Lock _gate = new();

    public void WriteLine(Airlock.Engines.Processes.OutputChannel stream, string line)
    {
        lock (_gate)
        {
            writer.WriteLine("  │ " + line);
        }
    }
}
