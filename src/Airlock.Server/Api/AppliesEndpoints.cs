using System.Security.Claims;

using Airlock.Application;
using Airlock.Application.Apply;
using Airlock.Domain.Storage;
using Airlock.Server.Auth;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>The body of <c>POST /api/applies</c>. Who applies is the token's actor, never a field here.</summary>
/// <param name="PlanId">The approved plan to apply.</param>
/// <param name="BreakGlass">Break-glass use, for an emergency (needs a grant from the break-glass team).</param>
public sealed record ApplyBody(string? PlanId, ApplyBreakGlassBody? BreakGlass);

/// <summary>Break-glass use of an apply request.</summary>
/// <param name="Incident">The incident id the grant names.</param>
/// <param name="Reason">Why.</param>
public sealed record ApplyBreakGlassBody(string? Incident, string? Reason);

/// <summary>The answer to <c>POST /api/applies</c>: the run to follow (<c>/api/runs/{run_id}</c>, its log at <c>/log</c>).</summary>
/// <param name="RunId">The run id, fixed now.</param>
/// <param name="Status">The request's status: pending until a worker claims it.</param>
public sealed record ApplyAccepted(string RunId, string Status);

/// <summary>An apply request as the API shows it, with the run's state once a worker started it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="PlanId">The plan.</param>
/// <param name="Actor">Who asked.</param>
/// <param name="Status">pending, claimed, done or abandoned.</param>
/// <param name="RequestedAt">When it was recorded.</param>
/// <param name="ClaimedBy">The worker running it.</param>
/// <param name="ClaimedAt">When the worker took it.</param>
/// <param name="FinishedAt">When it was done or abandoned.</param>
/// <param name="Outcome">The run's final state, or why it did not start or was abandoned.</param>
/// <param name="RunState">The run's current state, once it exists.</param>
/// <param name="BreakGlass">Whether it was a break-glass request.</param>
public sealed record ApplyRequestView(
    string RunId,
    string PlanId,
    string Actor,
    string Status,
    DateTimeOffset RequestedAt,
    string? ClaimedBy,
    DateTimeOffset? ClaimedAt,
    DateTimeOffset? FinishedAt,
    string? Outcome,
    string? RunState,
    bool BreakGlass);

/// <summary>Applies over the worker queue: request one, follow it.</summary>
internal static class AppliesEndpoints
{
    public static void MapApplies(this IEndpointRouteBuilder api)
    {
        var applies = api.MapGroup("/applies").WithTags("applies");
        applies.MapPost("/", async Task<Accepted<ApplyAccepted>> (ApplyDispatch dispatch, ClaimsPrincipal user, ApplyBody? body, CancellationToken cancellationToken) =>
        {
            if (body is null)
            {
                throw new UserInputException("the body must be a JSON object with plan_id");
            }

            var breakGlass = body.BreakGlass is { } b ? new BreakGlassUse(b.Incident, b.Reason) : null;
            var request = await dispatch.EnqueueAsync(body.PlanId ?? string.Empty, user.Actor(), breakGlass, cancellationToken);
            return TypedResults.Accepted($"/api/applies/{request.RunId}", new ApplyAccepted(request.RunId, request.State));
        }).WithName("RequestApply").WithSummary("Request the apply of an approved plan as the token's actor; a worker on any replica runs it (202 with the run id to follow)")
          .Produces(StatusCodes.Status400BadRequest);

        applies.MapGet("/{id}", async Task<Ok<ApplyRequestView>> (ApplyDispatch dispatch, AirlockServices services, string id, CancellationToken cancellationToken) =>
        {
            var request = await dispatch.GetAsync(id, cancellationToken) ?? throw new NotFoundException($"no apply request {id}");
            var run = await services.Store.Runs.GetAsync(id, cancellationToken);
            return TypedResults.Ok(View(request, run));
        }).WithName("GetApply").WithSummary("One apply request: its status on the worker queue and its run's state")
          .Produces(StatusCodes.Status404NotFound);
    }

    private static ApplyRequestView View(ApplyRequestRecord r, RunRecord? run) =>
        new(r.RunId, r.PlanId, r.Actor, r.State, r.RequestedAt, r.ClaimedBy, r.ClaimedAt, r.FinishedAt, r.Outcome, run?.State, r.BreakGlassIncident is not null);
}
