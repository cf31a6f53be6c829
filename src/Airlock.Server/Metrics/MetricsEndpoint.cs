using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Metrics;

/// <summary><c>GET /metrics</c>: the Prometheus text format, read from the store on each scrape (no token).</summary>
internal static class MetricsEndpoint
{
    public static void MapStoreMetrics(this IEndpointRouteBuilder app, string pattern)
    {
        app.MapGet(pattern, async (HttpContext context, StoreMetrics metrics, CancellationToken cancellationToken) =>
        {
            // Buffered, so a store failure half way answers 503 instead of a truncated 200.
            using var buffer = new MemoryStream();
            try
            {
                await metrics.WriteAsync(buffer, cancellationToken);
            }
            catch (System.Data.Common.DbException)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("store unreachable\n", cancellationToken);
                return;
            }

            context.Response.ContentType = StoreMetrics.ContentType;
            buffer.Position = 0;
            await buffer.CopyToAsync(context.Response.Body, cancellationToken);
        }).ExcludeFromDescription();
    }
}
