using Airlock.Application;
using Airlock.Domain.Storage;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>A run with its details, as the API shows it.</summary>
public sealed record RunView(RunRecord Run, RunDetails? Details, IReadOnlyList<RunEvent> Events);

/// <summary>Runs: list, one run with its details and events.</summary>
internal static class RunsEndpoints
{
    public static void MapRuns(this IEndpointRouteBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("runs");
        runs.MapGet("/", async (AirlockServices services, string? stack, string? environment, string? region, int? limit, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > 1000)
            {
                throw new UserInputException("limit must be between 1 and 1000");
            }

            return TypedResults.Ok(await services.Store.Runs.ListAsync(new RunQuery(stack, environment, limit ?? 50, region), cancellationToken));
        }).WithSummary("Runs, newest first, optionally for one stack, environment or region");

        runs.MapGet("/{id}", async Task<Results<Ok<RunView>, NotFound>> (AirlockServices services, string id, CancellationToken cancellationToken) =>
        {
            var run = await services.Store.Runs.GetAsync(id, cancellationToken) ?? throw new NotFoundException($"no run {id}");
            var details = await services.Store.Runs.GetDetailsAsync(id, cancellationToken);
            var events = await services.Store.Runs.ReadEventsAsync(id, cancellationToken);
            return TypedResults.Ok(new RunView(run, details, events));
        }).WithSummary("One run: state, details (plan, requester, failure class, statement, evidence) and its events");
    }
}
