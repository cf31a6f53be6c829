using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Plans;
using Airlock.Application.Views;
using Airlock.Cli.Client;
using Airlock.Domain.Plans;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock plan STACK --env ENV [--region R]`: plan the current commit, store it encrypted, evaluate plan-time policy;
/// with `--server URL [--commit REF]`, the server plans that commit of its workspace repository (POST /api/plans).
/// </summary>
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
        var commitOption = new Option<string?>("--commit") { Description = "With --server: the commit (sha or ref) of the server's workspace repository to plan (default: its HEAD)." };
        var serverOption = ServerClient.ServerOption();
        var command = new Command("plan", "Plan a stack at the current commit (with --server: at a commit of the server's repository) and store the plan for approval. Exit 0 when policy allows it, 3 when policy denies it, 1 when planning failed, 2 for bad input.");
        command.Arguments.Add(stackArgument);
        command.Options.Add(envOption);
        command.Options.Add(regionOption);
        command.Options.Add(asOption);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.Options.Add(commitOption);
        command.Options.Add(serverOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var json = parseResult.GetValue(jsonOption);
            if (parseResult.GetValue(serverOption) is { } server)
            {
                if (parseResult.GetValue(asOption) is not null)
                {
                    return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--as does not apply with --server: the server plans as the actor of the token in " + ServerClient.TokenVariable));
                }

                // A plan holds the request until it is stored: wait as long as a plan may take.
                return ServerClient.RunAsync(server, async client =>
                {
                    var body = new { stack = parseResult.GetValue(stackArgument), environment = parseResult.GetValue(envOption), region = parseResult.GetValue(regionOption), commit = parseResult.GetValue(commitOption) };
                    return Show(FromApi(await client.PostAsync("api/plans", body, cancellationToken)), json);
                }, ServerClient.LongTimeout);
            }

            if (parseResult.GetValue(commitOption) is not null)
            {
                return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--commit needs --server: a local plan is of the current checkout (check out the commit instead)"));
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var actor = GovernedCommand.Actor(parseResult.GetValue(asOption));
                using var cancellation = new GracefulCancellation(cancellationToken);
                var sink = new ConsoleToolSink(json ? Console.Error : Console.Out);
                var outcome = await new PlanService(services).PlanAsync(new PlanRequest(parseResult.GetValue(stackArgument)!, parseResult.GetValue(envOption)!, actor, parseResult.GetValue(regionOption)), sink, cancellation.Token);
                // The text needs no JSON form of the summary: it renders the one just read.
                return json ? Show(ToJson(outcome), json: true) : Show(ToJson(outcome, withSummary: false), json: false, outcome.Summary);
            }, cancellationToken);
        });
        return command;
    }

    public static JsonObject ToJson(PlanOutcome outcome, bool withSummary = true)
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
            ["inputs"] = JsonViews.Inputs(outcome.Metadata),
            ["summary"] = withSummary ? PlanSummaryJson.ToJson(outcome.Summary) : null,
            ["policy"] = policy,
        };
    }

    /// <summary>
    /// The server's plan (the GET /api/plans/{id} shape POST /api/plans answers with) in the shape of
    /// <see cref="ToJson"/>, so `plan --server` prints exactly what a local plan prints.
    /// </summary>
    public static JsonObject FromApi(JsonObject plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var local = new JsonObject();
        foreach (var key in LocalKeys)
        {
            // The API names the plan's digest plan_digest (as every plan listing does); the rest is named alike.
            local[key] = plan[key == "digest" ? "plan_digest" : key]?.DeepClone();
        }

        local["guarded_destroys"] ??= new JsonArray();
        return local;
    }

    // The keys of ToJson, in its order (ServerModeTests holds `plan --server` to the local keys).
    private static readonly string[] LocalKeys =
    [
        "plan_id", "stack", "environment", "region", "commit", "requester", "digest", "created_at", "expires_at",
        "mode", "state_serial", "tool_version", "guarded_destroys", "inputs", "summary", "policy",
    ];

    // The one rendering of a plan, from the ToJson shape (local or from the server): JSON or the human text; exit 3 when policy denies it.
    private static int Show(JsonObject plan, bool json, PlanSummary? summary = null)
    {
        var denied = (string?)plan["policy"]?["decision"] == "deny";
        if (json)
        {
            GovernedCommand.WriteJson(plan);
        }
        else
        {
            Render(plan, denied, summary);
        }

        return denied ? ExitCodes.Refused : ExitCodes.Ok;
    }

    private static void Render(JsonObject plan, bool denied, PlanSummary? summary)
    {
        if (summary is null)
        {
            // From the server: its summary JSON read back (PlanSummaryJson round-trips).
            using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(plan["summary"]!.ToJsonString()));
            summary = PlanReader.Read(stream);
        }

        PlanRendering.Text(summary);

        Console.WriteLine();
        Console.WriteLine($"Policy: {(string?)plan["policy"]?["decision"]}");
        foreach (var rule in (plan["policy"]?["rules"]?.AsArray() ?? []).Where(r => (string?)r?["result"] != "pass"))
        {
            Console.WriteLine($"  {(string?)rule!["result"],-4} {(string?)rule["id"]}: {(string?)rule["message"]}");
        }

        var guarded = plan["guarded_destroys"]!.AsArray().Select(a => (string?)a).ToList();
        if (guarded.Count > 0)
        {
            Console.WriteLine($"Guarded destroys (an approval must name each with --destroy): {string.Join(", ", guarded)}");
        }

        Console.WriteLine();
        var planId = (string)plan["plan_id"]!;
        var environment = (string)plan["environment"]!;
        var commit = (string)plan["commit"]!;
        var region = (string?)plan["region"] is { } r ? $" ({r})" : string.Empty;
        Console.WriteLine($"Plan {planId} for {(string?)plan["stack"]} in {environment}{region} at {commit[..Math.Min(12, commit.Length)]}");
        Console.WriteLine($"  digest  {(string?)plan["digest"]}");
        if (plan["inputs"] is JsonObject inputs)
        {
            var from = string.Join(", ", (inputs["from"]?.AsObject() ?? []).Select(p => $"{p.Key} ← {(string?)p.Value}"));
            Console.WriteLine($"  inputs  {from} ({(string?)inputs["digest"]})");
        }

        Console.WriteLine($"  expires {(string?)plan["expires_at"]}");
        Console.WriteLine(denied
            ? "Policy denies this plan: fix the failing rules and plan again."
            : $"Next: airlock approve {planId} (if {environment} needs approvals), then airlock apply {planId}");
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
