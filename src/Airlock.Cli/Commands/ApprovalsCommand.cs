using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Approvals;
using Airlock.Application.Views;
using Airlock.Cli.Client;

namespace Airlock.Cli.Commands;

/// <summary>`airlock approvals PLAN_ID`: who approved a plan, what each approval is bound to, and whether they suffice now.</summary>
internal static class ApprovalsCommand
{
    public static Command Create()
    {
        var planArgument = new Argument<string>("PLAN_ID") { Description = "The plan." };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("approvals", "Show a plan's approvals and whether they authorise an apply now. Exit 0 when satisfied, 3 when not, 2 for an unknown plan.");
        command.Arguments.Add(planArgument);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.Options.Add(serverOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var planId = parseResult.GetValue(planArgument)!;
            if (parseResult.GetValue(serverOption) is { } server)
            {
                return ServerClient.RunAsync(server, async client =>
                    Output(await GetAsync(client, planId, cancellationToken), parseResult.GetValue(jsonOption)));
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
                Output(ToJson(await new ApprovalService(services).ListAsync(planId, cancellationToken)), parseResult.GetValue(jsonOption)), cancellationToken);
        });
        return command;
    }

    public static JsonObject ToJson(PlanApprovals standing) => JsonViews.Approvals(standing);

    /// <summary>GET /api/plans/{id}/approvals, with the local wording for an unknown plan.</summary>
    public static Task<JsonObject> GetAsync(ServerClient client, string planId, CancellationToken cancellationToken) =>
        ServerClient.UnlessUnknownAsync(client.GetAsync($"api/plans/{Uri.EscapeDataString(planId)}/approvals", cancellationToken), ApprovalService.UnknownPlan(planId).Message);

    private static int Output(JsonObject standing, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(standing);
        }
        else
        {
            Render(standing);
        }

        return (bool)standing["satisfied"]! ? ExitCodes.Ok : ExitCodes.Refused;
    }

    // One rendering for the local store and the server (both give JsonViews.Approvals).
    private static void Render(JsonObject standing)
    {
        var region = (string?)standing["region"] is { } r ? $" ({r})" : string.Empty;
        Console.WriteLine($"Plan {(string?)standing["plan_id"]}: {(string?)standing["stack"]} in {(string?)standing["environment"]}{region}, requested by {(string?)standing["requester"]}");
        var decisions = standing["decisions"]!.AsArray();
        if (decisions.Count == 0)
        {
            Console.WriteLine("  no approvals yet");
        }

        foreach (var d in decisions.Select(d => d!))
        {
            var binding = d["binding"];
            var decision = (string?)d["decision"];
            var destroy = binding?["destroy"]?.AsArray() is { Count: > 0 } named ? $", accepts destroy of {string.Join(", ", named.Select(n => (string?)n))}" : string.Empty;
            var incident = (string?)binding?["incident"] is { } id ? $" for incident {id}"
                : decision == Airlock.Domain.Storage.ApprovalRecord.Rejected ? $": {(string?)binding?["reason"]}" : string.Empty;
            Console.WriteLine($"  {decision,-11} {(string?)d["approver"]} at {(string?)d["decided_at"]}, valid until {(string?)d["valid_until"]}{incident}{destroy}");
        }

        Console.WriteLine((bool)standing["satisfied"]! ? "Approvals authorise an apply now." : "Not yet authorised:");
        foreach (var problem in standing["problems"]!.AsArray())
        {
            Console.WriteLine("  - " + (string?)problem);
        }
    }
}
