using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Approvals;
using Airlock.Domain.Config;

namespace Airlock.Cli.Commands;

/// <summary>`airlock approve PLAN_ID`: an approval bound to exactly that plan, or a break-glass grant for an incident.</summary>
internal static class ApproveCommand
{
    public static Command Create()
    {
        var planArgument = new Argument<string>("PLAN_ID") { Description = "The plan to approve (printed by airlock plan)." };
        var destroyOption = new Option<string[]>("--destroy")
        {
            Description = "Explicitly accept the delete/replace of this guarded address (repeat for each).",
            AllowMultipleArgumentsPerToken = true,
        };
        var breakGlassOption = new Option<bool>("--break-glass") { Description = "Grant an emergency apply for an incident (break-glass team only)." };
        var rejectOption = new Option<bool>("--reject") { Description = "Reject the plan instead (same people as approve; needs --reason); it can then never be applied." };
        var incidentOption = new Option<string?>("--incident") { Description = "Incident id the break-glass grant is for." };
        var reasonOption = new Option<string?>("--reason") { Description = "Why the plan is rejected, or why the break-glass grant is needed." };
        var validForOption = new Option<string>("--valid-for") { Description = "How long a break-glass grant lasts (e.g. 30m; at most 4h).", DefaultValueFactory = _ => "1h" };
        var asOption = GovernedCommand.AsOption();
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("approve", "Approve or --reject a plan (bound to its commit, digest, policy result and approval rules). Exit 0 recorded, 3 refused, 2 bad input.");
        command.Arguments.Add(planArgument);
        foreach (var option in new Option[] { destroyOption, breakGlassOption, rejectOption, incidentOption, reasonOption, validForOption, asOption, jsonOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var actor = GovernedCommand.Actor(parseResult.GetValue(asOption));
            var planId = parseResult.GetValue(planArgument)!;
            var approvals = new ApprovalService(services);
            var json = parseResult.GetValue(jsonOption);
            if (parseResult.GetValue(rejectOption))
            {
                if (parseResult.GetValue(breakGlassOption) || (parseResult.GetValue(destroyOption) ?? []).Length > 0)
                {
                    throw new UserInputException("--reject cannot be combined with --break-glass or --destroy");
                }

                var rejected = await approvals.RejectAsync(new RejectRequest(planId, actor, parseResult.GetValue(reasonOption) ?? string.Empty), cancellationToken);
                if (json)
                {
                    GovernedCommand.WriteJson(ApprovalsCommand.ToJson(rejected));
                }
                else
                {
                    Console.WriteLine($"Rejected plan {planId} as {actor}: {rejected.Rejection?.Reason}");
                    Console.WriteLine("It can no longer be applied; the requester plans again to start over.");
                }

                return ExitCodes.Ok;
            }

            if (parseResult.GetValue(breakGlassOption))
            {
                if (!Durations.TryParse(parseResult.GetValue(validForOption)!, out var validFor, out var why))
                {
                    throw new UserInputException($"--valid-for \"{parseResult.GetValue(validForOption)}\" : {why}");
                }

                var grant = await approvals.GrantBreakGlassAsync(new BreakGlassRequest(planId, actor, parseResult.GetValue(incidentOption) ?? string.Empty, parseResult.GetValue(reasonOption) ?? string.Empty, validFor), cancellationToken);
                if (json)
                {
                    GovernedCommand.WriteJson(new JsonObject
                    {
                        ["plan_id"] = planId,
                        ["break_glass"] = new JsonObject
                        {
                            ["approver"] = grant.Approver,
                            ["incident"] = grant.IncidentId,
                            ["reason"] = grant.Reason,
                            ["expires_at"] = StoreCommandSupport.Instant(grant.ExpiresAt),
                        },
                    });
                }
                else
                {
                    Console.WriteLine($"Break-glass granted by {grant.Approver} for incident {grant.IncidentId} on plan {planId}, until {StoreCommandSupport.Instant(grant.ExpiresAt)}.");
                    Console.WriteLine($"The requester applies with: airlock apply {planId} --break-glass --incident {grant.IncidentId} --reason TEXT");
                }

                return ExitCodes.Ok;
            }

            var standing = await approvals.ApproveAsync(new ApproveRequest(planId, actor, parseResult.GetValue(destroyOption) ?? []), cancellationToken);
            if (json)
            {
                GovernedCommand.WriteJson(ApprovalsCommand.ToJson(standing));
            }
            else
            {
                Console.WriteLine($"Approved plan {planId} as {actor} (valid until {StoreCommandSupport.Instant(standing.Plan.ExpiresAt)}).");
                Console.WriteLine(standing.Verdict.Satisfied
                    ? $"Approvals are complete ({string.Join(", ", standing.Verdict.Counted)}): airlock apply {planId}"
                    : "Still needed: " + string.Join("; ", standing.Verdict.Problems.Where(p => !p.StartsWith("approval by ", StringComparison.Ordinal))));
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
