using System.Security.Claims;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Freezes;
using Airlock.Application.Views;
using Airlock.Server.Auth;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>Body of POST /api/freezes.</summary>
/// <param name="Env">The environment to freeze.</param>
/// <param name="Reason">Why, e.g. "SEV1 payments outage".</param>
public sealed record FreezeBody(string? Env, string? Reason);

/// <summary>Incident freezes: list, start, lift (as the token's actor).</summary>
internal static class FreezesEndpoints
{
    public static void MapFreezes(this IEndpointRouteBuilder api)
    {
        var freezes = api.MapGroup("/freezes").WithTags("freezes");
        freezes.MapGet("/", async (AirlockServices services, int? limit, CancellationToken cancellationToken) =>
        {
            var rows = await services.Store.Freezes.ListAsync(ApiLimits.Check(limit, 50), cancellationToken);
            return TypedResults.Ok(new JsonObject { ["freezes"] = new JsonArray([.. rows.Select(f => (JsonNode)JsonViews.Freeze(f))]) });
        }).WithName("ListFreezes").WithSummary("Incident freezes, active first, then recent ones");

        freezes.MapPost("/", async (AirlockServices services, ClaimsPrincipal user, FreezeBody? body, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(body?.Env) || string.IsNullOrWhiteSpace(body.Reason))
            {
                throw new UserInputException("a freeze needs env and reason");
            }

            var freeze = await new FreezeService(services).StartAsync(body.Env, body.Reason, user.Actor(), cancellationToken);
            return TypedResults.Created($"/api/freezes/{freeze.Environment}", JsonViews.Freeze(freeze));
        }).WithName("StartFreeze").WithSummary("Freeze an environment now (applies are refused unless break-glass)")
          .Produces(StatusCodes.Status409Conflict);

        freezes.MapDelete("/{env}", async (AirlockServices services, ClaimsPrincipal user, string env, CancellationToken cancellationToken) =>
            TypedResults.Ok(JsonViews.Freeze(await new FreezeService(services).StopAsync(env, user.Actor(), cancellationToken))))
            .WithName("StopFreeze").WithSummary("Lift an environment's incident freeze").Produces(StatusCodes.Status409Conflict);
    }
}
