using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Views;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Server.Auth;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

using EvidenceRunEvent = Airlock.Domain.Evidence.RunEvent;

namespace Airlock.Server.Api;

/// <summary>Body of POST /api/locks/force-unlock.</summary>
/// <param name="Key">The lock key as GET /api/locks shows it.</param>
/// <param name="Reason">Why (recorded on the holder's run and in evidence).</param>
public sealed record ForceUnlockBody(string? Key, string? Reason);

/// <summary>The queue board and the locks; force-unlock for lock administrators only.</summary>
internal static class LocksEndpoints
{
    public static void MapQueueAndLocks(this IEndpointRouteBuilder api)
    {
        api.MapGet("/queue", async (AirlockServices services, CancellationToken cancellationToken) =>
        {
            var items = await services.Store.Queues.ListActiveAsync(cancellationToken);
            var locks = await services.Store.Locks.ListAsync(cancellationToken);
            var now = services.Time.GetUtcNow();
            return TypedResults.Ok(JsonViews.Queue(QueueBoard.Build(items, QueueDefinitions.From(services.Workspace.Config), locks, now), now));
        }).WithTags("queue").WithName("GetQueue").WithSummary("Apply queues: running items, waiting items with position, age and blocked reason, abandoned claims");

        var locksGroup = api.MapGroup("/locks").WithTags("locks");
        locksGroup.MapGet("/", async (AirlockServices services, CancellationToken cancellationToken) =>
            TypedResults.Ok(JsonViews.Locks(await services.Store.Locks.ListAsync(cancellationToken), services.Time.GetUtcNow())))
            .WithName("ListLocks").WithSummary("Held locks: key, holder run, actor, reason, age, expiry, fencing token");

        locksGroup.MapPost("/force-unlock", async (AirlockServices services, ClaimsPrincipal user, ForceUnlockBody? body, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(body?.Key) || string.IsNullOrWhiteSpace(body.Reason))
            {
                throw new UserInputException("force-unlock needs key and reason");
            }

            LockKey key;
            try
            {
                key = LockKey.Parse(body.Key);
            }
            catch (FormatException e)
            {
                throw new UserInputException(e.Message);
            }

            // The same administrators as `airlock unlock`: members of airlock.yaml's locks.admins teams.
            var actor = user.Actor();
            new LockAdministrators(services.Workspace.Config.LockAdministrators()).Authorize(actor, body.Reason);
            var removed = await services.Store.Locks.ForceUnlockAsync(key, actor, body.Reason.Trim(), cancellationToken)
                ?? throw new NotFoundException($"lock {key.Value} is not held");
            var run = await services.Store.Runs.GetAsync(removed.Holder.RunId, cancellationToken);
            var now = services.Time.GetUtcNow();
            await services.Evidence.RecordEventAsync(
                new EvidenceRunEvent(removed.Holder.RunId, "lock_force_unlocked", run?.Stack ?? string.Empty, run?.Environment ?? string.Empty, actor, now, new Dictionary<string, string>
                {
                    ["key"] = key.Value,
                    ["reason"] = body.Reason.Trim(),
                    ["holder"] = removed.Holder.Actor,
                    ["fencing_token"] = removed.FencingToken.ToString(CultureInfo.InvariantCulture),
                }), cancellationToken);
            return TypedResults.Ok(new JsonObject
            {
                ["key"] = key.Value,
                ["run_id"] = removed.Holder.RunId,
                ["holder"] = removed.Holder.Actor,
                ["fencing_token"] = removed.FencingToken,
                ["forced_by"] = actor,
                ["reason"] = body.Reason.Trim(),
                ["statement"] = $"run {removed.Holder.RunId} is marked needs_reconciliation",
            });
        }).WithName("ForceUnlock").WithSummary("Force-unlock a lock (lock administrators only); the holder's run needs reconciliation and the unlock is recorded")
          .Produces(StatusCodes.Status403Forbidden).Produces(StatusCodes.Status404NotFound);
    }
}
