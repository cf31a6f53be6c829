using System.Security.Claims;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Runs;
using Airlock.Application.Views;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Server.Auth;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>Body of POST /api/runs/{id}/cancel.</summary>
/// <param name="Reason">Why (recorded with the run).</param>
public sealed record CancelBody(string? Reason);

/// <summary>Runs: list, one run with its timeline and evidence, cancel.</summary>
internal static class RunsEndpoints
{
    public static void MapRuns(this IEndpointRouteBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("runs");
        runs.MapGet("/", async (AirlockServices services, string? state, string? stack, string? env, string? environment, string? region, int? limit, CancellationToken cancellationToken) =>
        {
            if (state is not null && !Enum.GetValues<RunState>().Any(s => s.WireName() == state))
            {
                throw new UserInputException($"unknown run state '{state}' (one of {string.Join(", ", Enum.GetValues<RunState>().Select(s => s.WireName()))})");
            }

            var rows = await services.Store.Runs.ListAsync(new RunQuery(stack, env ?? environment, ApiLimits.Check(limit, 50), region, state), cancellationToken);
            var list = new JsonArray();
            foreach (var run in rows)
            {
                list.Add(JsonViews.Run(run, await services.Store.Runs.GetDetailsAsync(run.Id, cancellationToken)));
            }

            return TypedResults.Ok(new JsonObject { ["runs"] = list });
        }).WithName("ListRuns").WithSummary("Runs, newest first, optionally in one state (state=) for one stack, environment (env=) or region");

        runs.MapGet("/{id}", async (AirlockServices services, string id, CancellationToken cancellationToken) =>
        {
            var run = await services.Store.Runs.GetAsync(id, cancellationToken) ?? throw new NotFoundException($"no run {id}");
            var details = await services.Store.Runs.GetDetailsAsync(id, cancellationToken);
            var events = await services.Store.Runs.ReadEventsAsync(id, cancellationToken);
            return TypedResults.Ok(JsonViews.RunWithEvents(run, details, events));
        }).WithName("GetRun").WithSummary("One run: state, details (plan, requester, failure class, statement), its events (timeline) and evidence ids")
          .Produces(StatusCodes.Status404NotFound);

        runs.MapPost("/{id}/cancel", async (AirlockServices services, ClaimsPrincipal user, string id, CancelBody? body, CancellationToken cancellationToken) =>
        {
            var run = await services.Store.Runs.GetAsync(id, cancellationToken) ?? throw new NotFoundException($"no run {id}");
            var cancel = new CancelService(services);
            var details = await services.Store.Runs.GetDetailsAsync(id, cancellationToken);
            if (cancel.WhyNot(services.Workspace.Environment(run.Environment).Apply.Cancellation, services.Workspace.Stack(run.Stack), user.Actor(), details?.RequestedBy) is { } refusal)
            {
                throw new UnauthorizedAccessException(refusal);
            }

            var request = await cancel.RequestAsync(id, user.Actor(), body?.Reason ?? string.Empty, cancellationToken);
            return TypedResults.Accepted($"/api/runs/{id}", new JsonObject
            {
                ["run_id"] = request.RunId,
                ["actor"] = request.Actor,
                ["reason"] = request.Reason,
                ["requested_at"] = JsonViews.Instant(request.RequestedAt),
            });
        }).WithName("CancelRun").WithSummary("Ask a queued or running apply to stop gracefully, as the environment's cancellation policy allows the token's actor")
          .Produces(StatusCodes.Status403Forbidden).Produces(StatusCodes.Status404NotFound).Produces(StatusCodes.Status409Conflict);
    }
}
