using Airlock.Application;
using Airlock.Server.Hosting;

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
        app.MapGet("/readyz", async (AirlockServices services, ServerOptions options, CancellationToken cancellationToken) =>
        {
            // Bounded: a database behind a dead link never refuses, it just never answers. The read is asked to stop
            // then, but the answer does not wait for the driver to give up (Npgsql may wait for its command timeout).
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(options.ReadinessTimeout);
            var read = services.Store.Runs.ListAsync(new Domain.Storage.RunQuery(Limit: 1), bounded.Token);
            _ = read.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            try
            {
                await read.WaitAsync(options.ReadinessTimeout, cancellationToken);
                return Results.Ok(new { status = "ready", backend = services.Store.Backend, schema_version = services.Store.SchemaVersion });
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return Results.Json(new { status = "store unreachable", backend = services.Store.Backend }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).ExcludeFromDescription();
    }
}
