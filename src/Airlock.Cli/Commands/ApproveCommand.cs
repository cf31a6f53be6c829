using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Approvals;
using Airlock.Cli.Client;
using Airlock.Domain.Config;

namespace Airlock.Cli.Commands;

/// <summary>`airlock approve PLAN_ID`: an approval bound to exactly that plan, a rejection, or a break-glass grant for an incident.</summary>
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
        var serverOption = ServerClient.ServerOption();
        var command = new Command("approve", "Approve or --reject a plan (bound to its commit, digest, policy result and approval rules). Exit 0 recorded, 3 refused, 2 bad input.");
        command.Arguments.Add(planArgument);
        foreach (var option in new Option[] { destroyOption, breakGlassOption, rejectOption, incidentOption, reasonOption, validForOption, asOption, jsonOption, databaseOption, serverOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var planId = parseResult.GetValue(planArgument)!;
            var json = parseResult.GetValue(jsonOption);
            var reject = parseResult.GetValue(rejectOption);
            var breakGlass = parseResult.GetValue(breakGlassOption);
            var destroy = parseResult.GetValue(destroyOption) ?? [];
            var reason = parseResult.GetValue(reasonOption);
            if (reject && (breakGlass || destroy.Length > 0))
            {
                return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--reject cannot be combined with --break-glass or --destroy"));
            }

            if (!Durations.TryParse(parseResult.GetValue(validForOption)!, out var validFor, out var why))
            {
                return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, $"--valid-for \"{parseResult.GetValue(validForOption)}\" : {why}"));
            }

            if (parseResult.GetValue(serverOption) is { } server)
            {
                if (parseResult.GetValue(asOption) is not null)
                {
                    return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--as does not apply with --server: the server decides as the actor of the token in " + ServerClient.TokenVariable));
                }

                return ServerClient.RunAsync(server, async client =>
                {
                    var path = $"api/plans/{Uri.EscapeDataString(planId)}";
                    if (reject)
                    {
                        return Rejected(planId, await client.PostAsync(path + "/rejections", new { reason }, cancellationToken), json);
                    }

                    if (breakGlass)
                    {
                        var grant = await client.PostAsync(path + "/break-glass", new { incident = parseResult.GetValue(incidentOption), reason, valid_for = parseResult.GetValue(validForOption) }, cancellationToken);
                        return Granted(planId, (string)grant["approver"]!, (string)grant["incident"]!, (string)grant["reason"]!, (string)grant["expires_at"]!, json);
                    }

                    return Approved(planId, await client.PostAsync(path + "/approvals", new { destroy_addresses = destroy }, cancellationToken), json);
                });
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var actor = GovernedCommand.Actor(parseResult.GetValue(asOption));
                var approvals = new ApprovalService(services);
                if (reject)
                {
                    return Rejected(planId, ApprovalsCommand.ToJson(await approvals.RejectAsync(new RejectRequest(planId, actor, reason ?? string.Empty), cancellationToken)), json);
                }

                if (breakGlass)
                {
                    var grant = await approvals.GrantBreakGlassAsync(new BreakGlassRequest(planId, actor, parseResult.GetValue(incidentOption) ?? string.Empty, reason ?? string.Empty, validFor), cancellationToken);
                    return Granted(planId, grant.Approver, grant.IncidentId, grant.Reason, StoreCommandSupport.Instant(grant.ExpiresAt), json);
                }

                return Approved(planId, ApprovalsCommand.ToJson(await approvals.ApproveAsync(new ApproveRequest(planId, actor, destroy), cancellationToken)), json);
            }, cancellationToken);
        });
        return command;
    }

    // Renderings shared by the local store and --server: both give the JsonViews.Approvals shape.
    private static int Approved(string planId, JsonObject standing, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(standing);
            return ExitCodes.Ok;
        }

        var mine = standing["decisions"]!.AsArray()[^1]!;
        Console.WriteLine($"Approved plan {planId} as {(string?)mine["approver"]} (valid until {(string?)mine["valid_until"]}).");
        Console.WriteLine((bool)standing["satisfied"]!
            ? $"Approvals are complete ({string.Join(", ", standing["counted"]!.AsArray().Select(a => (string?)a))}): airlock apply {planId}"
            : "Still needed: " + string.Join("; ", standing["problems"]!.AsArray().Select(p => (string)p!).Where(p => !p.StartsWith("approval by ", StringComparison.Ordinal))));
        return ExitCodes.Ok;
    }

    private static int Rejected(string planId, JsonObject standing, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(standing);
            return ExitCodes.Ok;
        }

        Console.WriteLine($"Rejected plan {planId} as {(string?)standing["rejection"]?["rejecter"]}: {(string?)standing["rejection"]?["reason"]}");
        Console.WriteLine("It can no longer be applied; the requester plans again to start over.");
        return ExitCodes.Ok;
    }

    private static int Granted(string planId, string approver, string incident, string reason, string expiresAt, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(new JsonObject
            {
                ["plan_id"] = planId,
                ["break_glass"] = new JsonObject { ["approver"] = approver, ["incident"] = incident, ["reason"] = reason, ["expires_at"] = expiresAt },
            });
        }
        else
        {
            Console.WriteLine($"Break-glass granted by {approver} for incident {incident} on plan {planId}, until {expiresAt}.");
            Console.WriteLine($"The requester applies with: airlock apply {planId} --break-glass --incident {incident} --reason TEXT");
        }

        return ExitCodes.Ok;
    }
}
