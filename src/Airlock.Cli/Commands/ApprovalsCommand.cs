using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Approvals;

namespace Airlock.Cli.Commands;

/// <summary>`airlock approvals PLAN_ID`: who approved a plan, what each approval is bound to, and whether they suffice now.</summary>
internal static class ApprovalsCommand
{
    public static Command Create()
    {
        var planArgument = new Argument<string>("PLAN_ID") { Description = "The plan." };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("approvals", "Show a plan's approvals and whether they authorise an apply now. Exit 0 when satisfied, 3 when not, 2 for an unknown plan.");
        command.Arguments.Add(planArgument);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var standing = await new ApprovalService(services).ListAsync(parseResult.GetValue(planArgument)!, cancellationToken);
            if (parseResult.GetValue(jsonOption))
            {
                GovernedCommand.WriteJson(ToJson(standing));
            }
            else
            {
                Render(standing);
            }

            return standing.Verdict.Satisfied ? ExitCodes.Ok : ExitCodes.Refused;
        }, cancellationToken));
        return command;
    }

    public static JsonObject ToJson(PlanApprovals standing) => new()
    {
        ["plan_id"] = standing.Plan.PlanId,
        ["stack"] = standing.Plan.Stack,
        ["environment"] = standing.Plan.Environment,
        ["region"] = standing.Metadata.Region,
        ["requester"] = standing.Metadata.Requester,
        ["satisfied"] = standing.Verdict.Satisfied,
        ["rejection"] = standing.Rejection is { } rejection
            ? new JsonObject { ["rejecter"] = rejection.Rejecter, ["reason"] = rejection.Reason, ["rejected_at"] = StoreCommandSupport.Instant(rejection.RejectedAt) }
            : null,
        ["counted"] = new JsonArray([.. standing.Verdict.Counted.Select(a => (JsonNode)a)]),
        ["problems"] = new JsonArray([.. standing.Verdict.Problems.Select(p => (JsonNode)p)]),
        ["decisions"] = new JsonArray([.. standing.Decisions.Select(d => (JsonNode)new JsonObject
        {
            ["approver"] = d.Approver,
            ["decision"] = d.Decision,
            ["decided_at"] = StoreCommandSupport.Instant(d.DecidedAt),
            ["valid_until"] = StoreCommandSupport.Instant(d.ValidUntil),
            ["binding"] = JsonNode.Parse(d.BindingJson),
        })]),
    };

    private static void Render(PlanApprovals standing)
    {
        var region = standing.Metadata.Region is { } r ? $" ({r})" : string.Empty;
        Console.WriteLine($"Plan {standing.Plan.PlanId}: {standing.Plan.Stack} in {standing.Plan.Environment}{region}, requested by {standing.Metadata.Requester}");
        if (standing.Decisions.Count == 0)
        {
            Console.WriteLine("  no approvals yet");
        }

        foreach (var d in standing.Decisions)
        {
            var binding = JsonNode.Parse(d.BindingJson);
            var destroy = binding?["destroy"]?.AsArray() is { Count: > 0 } named ? $", accepts destroy of {string.Join(", ", named.Select(n => (string?)n))}" : string.Empty;
            var incident = (string?)binding?["incident"] is { } id ? $" for incident {id}"
                : d.Decision == Airlock.Domain.Storage.ApprovalRecord.Rejected ? $": {(string?)binding?["reason"]}" : string.Empty;
            Console.WriteLine($"  {d.Decision,-11} {d.Approver} at {StoreCommandSupport.Instant(d.DecidedAt)}, valid until {StoreCommandSupport.Instant(d.ValidUntil)}{incident}{destroy}");
        }

        Console.WriteLine(standing.Verdict.Satisfied ? "Approvals authorise an apply now." : "Not yet authorised:");
        foreach (var problem in standing.Verdict.Problems)
        {
            Console.WriteLine("  - " + problem);
        }
    }
}
