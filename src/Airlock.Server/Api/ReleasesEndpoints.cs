using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Releases;
using Airlock.Application.Views;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>Releases with their per-environment/wave progress, and version traceability.</summary>
internal static class ReleasesEndpoints
{
    public static void MapReleases(this IEndpointRouteBuilder api)
    {
        var releases = api.MapGroup("/releases").WithTags("releases");
        releases.MapGet("/", async (AirlockServices services, int? limit, CancellationToken cancellationToken) =>
        {
            var views = await new ReleaseService(services).ListAsync(ApiLimits.Check(limit, 50), cancellationToken);
            return TypedResults.Ok(new JsonObject { ["releases"] = new JsonArray([.. views.Select(v => (JsonNode)JsonViews.Release(v))]) });
        }).WithName("ListReleases").WithSummary("Releases, newest first, with their progress");

        releases.MapGet("/{id}", async (AirlockServices services, string id, CancellationToken cancellationToken) =>
        {
            _ = await services.Store.Releases.GetAsync(id, cancellationToken) ?? throw new NotFoundException($"no release {id}");
            return TypedResults.Ok(JsonViews.Release(await new ReleaseService(services).GetAsync(id, cancellationToken)));
        }).WithName("GetRelease").WithSummary("One release: environments, waves, stack targets and app deployments, timeline").Produces(StatusCodes.Status404NotFound);

        api.MapGet("/trace/{query}", async (AirlockServices services, string query, CancellationToken cancellationToken) =>
            TypedResults.Ok(JsonViews.Trace(await new TraceService(services).TraceAsync(query, cancellationToken))))
            .WithTags("releases").WithName("Trace").WithSummary("Where an app or infrastructure version (or commit) was deployed and applied");
    }
}
