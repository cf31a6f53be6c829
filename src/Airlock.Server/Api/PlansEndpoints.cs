using System.Security.Claims;
using System.Text;
using System.Text.Json;

using Airlock.Application;
using Airlock.Application.Approvals;
using Airlock.Application.Plans;
using Airlock.Application.Views;
using Airlock.Domain.Config;
using Airlock.Domain.Plans;
using Airlock.Domain.Storage;
using Airlock.Server.Auth;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Airlock.Server.Api;

/// <summary>Body of POST /api/plans: what to plan, at which commit of the server's workspace repository.</summary>
/// <param name="Stack">The stack.</param>
/// <param name="Environment">The environment.</param>
/// <param name="Region">The target region (required in an environment that rolls out in waves).</param>
/// <param name="Commit">A commit sha or ref of the server's workspace repository (default: its HEAD).</param>
public sealed record PlanBody(string? Stack, string? Environment, string? Region, string? Commit);

/// <summary>Body of POST /api/plans/{id}/approvals: the guarded destroys the approver explicitly accepts.</summary>
/// <param name="DestroyAddresses">Addresses whose delete/replace is accepted (the CLI's --destroy).</param>
public sealed record ApproveBody(IReadOnlyList<string>? DestroyAddresses);

/// <summary>Body of POST /api/plans/{id}/rejections.</summary>
/// <param name="Reason">Why (required).</param>
public sealed record RejectBody(string? Reason);

/// <summary>Body of POST /api/plans/{id}/break-glass.</summary>
/// <param name="Incident">The incident the grant is for.</param>
/// <param name="Reason">Why it is needed.</param>
/// <param name="ValidFor">How long it lasts (e.g. "30m"; default 1h, at most 4h).</param>
public sealed record BreakGlassBody(string? Incident, string? Reason, string? ValidFor);

/// <summary>
/// Plans and the decisions on them. The deciding person is always the token's actor, never a body field;
/// someone who may not decide gets 403 with the one-line reason, a plan that cannot be decided on now 409.
/// </summary>
internal static class PlansEndpoints
{
    public static void MapPlans(this IEndpointRouteBuilder api)
    {
        var plans = api.MapGroup("/plans").WithTags("plans");
        plans.MapGet("/", async (AirlockServices services, string? stack, string? env, int? limit, CancellationToken cancellationToken) =>
        {
            var rows = await services.Store.Plans.ListAsync(new PlanQuery(stack, env, ApiLimits.Check(limit, 50)), cancellationToken);
            return TypedResults.Ok(new System.Text.Json.Nodes.JsonObject
            {
                ["plans"] = new System.Text.Json.Nodes.JsonArray([.. rows.Select(p => (System.Text.Json.Nodes.JsonNode)JsonViews.PlanHeader(p, PlanMetadata.FromJson(p.MetadataJson)))]),
            });
        }).WithName("ListPlans").WithSummary("Plans, newest first, optionally for one stack (stack=) and environment (env=)");

        plans.MapPost("/", async (AirlockServices services, ClaimsPrincipal user, PlanBody? body, CancellationToken cancellationToken) =>
        {
            var outcome = await PlanAtCommitAsync(services, body, user.Actor(), cancellationToken);
            var node = JsonViews.Plan(await new ApprovalService(services).ListAsync(outcome.Record.PlanId, cancellationToken));
            node["why_not"] = await new ApprovalService(services).WhyNotAsync(outcome.Record.PlanId, user.Actor(), cancellationToken);
            return TypedResults.Created($"/api/plans/{Uri.EscapeDataString(outcome.Record.PlanId)}", node);
        }).WithName("CreatePlan").WithSummary("Plan a stack in an environment (region when waved) at a commit of the server's workspace repository (default HEAD) as the token's actor; returns when the plan is stored")
          .Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status409Conflict).Produces(StatusCodes.Status422UnprocessableEntity);

        plans.MapGet("/{id}", async (AirlockServices services, ClaimsPrincipal user, string id, CancellationToken cancellationToken) =>
        {
            var standing = await StandingAsync(services, id, cancellationToken);
            var node = JsonViews.Plan(standing);
            // What the caller's buttons should say: null when they may approve or reject, else why not.
            node["why_not"] = await new ApprovalService(services).WhyNotAsync(id, user.Actor(), cancellationToken);
            return TypedResults.Ok(node);
        }).WithName("GetPlan").WithSummary("One plan: metadata, summary (counts, resources, risks), policy result, approvals, and why the caller may not decide (why_not)")
          .Produces(StatusCodes.Status404NotFound);

        plans.MapGet("/{id}/markdown", async (HttpContext context, AirlockServices services, string id, CancellationToken cancellationToken) =>
        {
            var plan = await services.Store.Plans.GetAsync(id, cancellationToken) ?? throw new NotFoundException($"no plan {id}");
            var metadata = PlanMetadata.FromJson(plan.MetadataJson);
            // The stored summary written straight to UTF-8 (not first a UTF-16 string) and read back as a summary.
            using var stream = new MemoryStream();
            await using (var json = new Utf8JsonWriter(stream))
            {
                metadata.Summary.WriteTo(json);
            }

            stream.Position = 0;
            var summary = PlanReader.Read(stream, services.Workspace.ResourceClasses);

            // Rendered as it goes, never as one string (a 137k-resource plan's markdown is ~14 MB, twice that as
            // UTF-16): into a buffer that spills to a temporary file past 32 KB, because the renderer writes
            // synchronously and Kestrel takes only asynchronous writes; then copied to the response.
            await using var buffer = new FileBufferingWriteStream();
            await using (var writer = new StreamWriter(buffer, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true))
            {
                PlanMarkdown.Render(summary, writer);
            }

            context.Response.ContentType = "text/markdown; charset=utf-8";
            await buffer.DrainBufferAsync(context.Response.Body, cancellationToken);
            return Results.Empty;
        }).WithName("GetPlanMarkdown").WithSummary("The plan summary as markdown (as posted on pull requests)")
          .Produces<string>(StatusCodes.Status200OK, "text/markdown").Produces(StatusCodes.Status404NotFound);

        plans.MapGet("/{id}/approvals", async (AirlockServices services, string id, CancellationToken cancellationToken) =>
            TypedResults.Ok(JsonViews.Approvals(await StandingAsync(services, id, cancellationToken))))
            .WithName("ListApprovals").WithSummary("A plan's decisions (approvals, rejections, break-glass grants) and whether they authorise an apply now");

        plans.MapPost("/{id}/approvals", async (AirlockServices services, ClaimsPrincipal user, string id, ApproveBody? body, CancellationToken cancellationToken) =>
        {
            var approvals = new ApprovalService(services);
            await RefuseIfNotEligibleAsync(approvals, id, user.Actor(), breakGlass: false, cancellationToken);
            var standing = await approvals.ApproveAsync(new ApproveRequest(id, user.Actor(), body?.DestroyAddresses ?? []), cancellationToken);
            return TypedResults.Ok(JsonViews.Approvals(standing));
        }).WithName("ApprovePlan").WithSummary("Approve the plan as the token's actor (destroy_addresses: guarded destroys accepted)")
          .Produces(StatusCodes.Status403Forbidden).Produces(StatusCodes.Status409Conflict);

        plans.MapPost("/{id}/rejections", async (AirlockServices services, ClaimsPrincipal user, string id, RejectBody? body, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(body?.Reason))
            {
                throw new UserInputException("a rejection needs a reason");
            }

            var approvals = new ApprovalService(services);
            await RefuseIfNotEligibleAsync(approvals, id, user.Actor(), breakGlass: false, cancellationToken);
            var standing = await approvals.RejectAsync(new RejectRequest(id, user.Actor(), body.Reason), cancellationToken);
            return TypedResults.Ok(JsonViews.Approvals(standing));
        }).WithName("RejectPlan").WithSummary("Reject the plan as the token's actor, with a reason; it can then never be applied (a fresh plan starts over)")
          .Produces(StatusCodes.Status403Forbidden).Produces(StatusCodes.Status409Conflict);

        plans.MapPost("/{id}/break-glass", async (AirlockServices services, ClaimsPrincipal user, string id, BreakGlassBody? body, CancellationToken cancellationToken) =>
        {
            var validText = body?.ValidFor ?? "1h";
            if (!Durations.TryParse(validText, out var validFor, out var why))
            {
                throw new UserInputException($"valid_for \"{validText}\": {why}");
            }

            var approvals = new ApprovalService(services);
            await RefuseIfNotEligibleAsync(approvals, id, user.Actor(), breakGlass: true, cancellationToken);
            var grant = await approvals.GrantBreakGlassAsync(new BreakGlassRequest(id, user.Actor(), body?.Incident ?? string.Empty, body?.Reason ?? string.Empty, validFor), cancellationToken);
            return TypedResults.Ok(new System.Text.Json.Nodes.JsonObject
            {
                ["plan_id"] = id,
                ["approver"] = grant.Approver,
                ["incident"] = grant.IncidentId,
                ["reason"] = grant.Reason,
                ["granted_at"] = JsonViews.Instant(grant.GrantedAt),
                ["expires_at"] = JsonViews.Instant(grant.ExpiresAt),
            });
        }).WithName("GrantBreakGlass").WithSummary("Grant an emergency apply for an incident (break-glass team only; never the requester)")
          .Produces(StatusCodes.Status403Forbidden).Produces(StatusCodes.Status409Conflict);
    }

    // The commit is planned in its own worktree under .airlock/commits/ (as the GitHub flow plans a pull request's
    // head), so the server's checkout never moves and the apply runs the same commit's config and code.
    private static async Task<PlanOutcome> PlanAtCommitAsync(AirlockServices services, PlanBody? body, string actor, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body?.Stack) || string.IsNullOrWhiteSpace(body.Environment))
        {
            throw new UserInputException("a plan needs a stack and an environment");
        }

        // Checked against the server's own configuration first: its approval rules are the ones that count.
        _ = services.Workspace.Stack(body.Stack);
        _ = services.Workspace.Environment(body.Environment);
        var reference = string.IsNullOrWhiteSpace(body.Commit) ? "HEAD" : body.Commit.Trim();
        var commit = (reference.StartsWith('-') ? null : await services.Git.ResolveAsync(reference, cancellationToken))
            ?? throw new UserInputException($"unknown commit '{reference}' in the server's workspace repository");
        var shortCommit = commit[..Math.Min(12, commit.Length)];
        var source = await SourceWorktrees.CheckOutAsync(services, Path.Combine(services.Workspace.CommitsDirectory, shortCommit), commit, cancellationToken);
        SourceWorktrees.CheckGovernanceUnchanged(services.Workspace, source.Workspace, body.Stack, body.Environment, $"at commit {shortCommit}", $"commit {shortCommit}");
        return await new PlanService(source).PlanAsync(
            new PlanRequest(body.Stack, body.Environment, actor, string.IsNullOrWhiteSpace(body.Region) ? null : body.Region, InCommitWorktree: true),
            Airlock.Engines.Processes.NullOutputSink.Instance,
            cancellationToken);
    }

    private static async Task<PlanApprovals> StandingAsync(AirlockServices services, string id, CancellationToken cancellationToken)
    {
        _ = await services.Store.Plans.GetAsync(id, cancellationToken) ?? throw new NotFoundException($"no plan {id}");
        return await new ApprovalService(services).ListAsync(id, cancellationToken);
    }

    private static async Task RefuseIfNotEligibleAsync(ApprovalService approvals, string id, string actor, bool breakGlass, CancellationToken cancellationToken)
    {
        string? refusal;
        try
        {
            refusal = await approvals.NotEligibleAsync(id, actor, breakGlass, cancellationToken);
        }
        catch (UserInputException)
        {
            throw new NotFoundException($"no plan {id}");
        }

        if (refusal is not null)
        {
            throw new UnauthorizedAccessException(refusal);
        }
    }
}

/// <summary>The one rule for <c>limit=</c> query parameters.</summary>
internal static class ApiLimits
{
    public static int Check(int? limit, int defaultLimit)
    {
        if (limit is < 1 or > 1000)
        {
            throw new UserInputException("limit must be between 1 and 1000");
        }

        return limit ?? defaultLimit;
    }
}
