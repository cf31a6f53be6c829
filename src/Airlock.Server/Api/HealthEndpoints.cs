using Airlock.Application;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>Liveness (<c>/healthz</c>: the process answers) and readiness (<c>/readyz</c>: the store answers).</summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).ExcludeFromDescription();
        app.MapGet("/readyz", async (AirlockServices services, CancellationToken cancellationToken) =>
        {
            try
            {
                await services.Store.Runs.ListAsync(new Domain.Storage.RunQuery(Limit: 1), cancellationToken);
                return Results.Ok(new { status = "ready", backend = services.Store.Backend, schema_version = services.Store.SchemaVersion });
            }
            catch (System.Data.Common.DbException)
            {
                return Results.Json(new { status = "store unreachable", backend = services.Store.Backend }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).ExcludeFromDescription();
    }
}
