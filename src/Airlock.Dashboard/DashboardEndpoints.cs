using System.Reflection;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

using Airlock.Application;
using Airlock.Application.Approvals;
using Airlock.Application.Tokens;
using Airlock.Dashboard.Pages;
using Airlock.Dashboard.Views;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Dashboard;

/// <summary>
/// The web dashboard: server-rendered pages at <c>/</c> and below (the API stays at <c>/api</c>). Signing in
/// stores an API token in an HttpOnly, SameSite=Strict cookie that the server's token authentication reads;
/// anyone not signed in is sent to the sign-in page. Forms that change something also carry a form token
/// derived from that cookie, so another site can neither post them nor read the value.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>The form field that carries the form token.</summary>
    public const string FormTokenField = "form_token";

    private static readonly string[] PublicAssets = ["dashboard.css", "run.js"];

    /// <summary>Registers what the pages need (Razor component rendering).</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services, string cookieName)
    {
        services.AddRazorComponents();
        services.AddSingleton(new DashboardOptions(cookieName));
        services.AddSingleton(provider => new DashboardReads(provider.GetRequiredService<AirlockServices>()));
        return services;
    }

    /// <summary>Maps the pages, sign-in/out, the approve/reject forms and the static assets.</summary>
    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var pages = app.MapGroup(string.Empty).ExcludeFromDescription();

        pages.MapGet("/assets/{name}", (string name) => Asset(name));
        pages.MapGet("/login", (string? returnUrl) => Render<LoginPage>(new { ReturnUrl = LocalPath(returnUrl) }));
        pages.MapPost("/login", async (HttpContext context, TokenService tokens, DashboardOptions options) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var secret = form["token"].ToString().Trim();
            var returnUrl = LocalPath(form["return_url"]);
            if (secret.Length == 0 || await tokens.AuthenticateAsync(secret, context.RequestAborted) is null)
            {
                return Render<LoginPage>(new { ReturnUrl = returnUrl, Error = "unknown, revoked or expired token (create one with airlock token create)" }, StatusCodes.Status401Unauthorized);
            }

            context.Response.Cookies.Append(options.CookieName, secret, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
            });
            return Results.Redirect(returnUrl);
        });
        pages.MapPost("/logout", (HttpContext context, DashboardOptions options) =>
        {
            context.Response.Cookies.Delete(options.CookieName, new CookieOptions { Path = "/" });
            return Results.Redirect("/login");
        });

        pages.MapGet("/", (HttpContext context, DashboardReads reads, CancellationToken ct) =>
            Page(context, async actor => Render<OverviewPage>(new { Actor = actor, Model = await reads.OverviewAsync(ct) })));
        pages.MapGet("/queue", (HttpContext context, DashboardReads reads, CancellationToken ct) =>
            Page(context, async actor => Render<QueuePage>(new { Actor = actor, Model = await reads.QueuesAsync(ct) })));
        pages.MapGet("/locks", (HttpContext context, DashboardReads reads, CancellationToken ct) =>
            Page(context, async actor => Render<LocksPage>(new { Actor = actor, Locks = await reads.LocksAsync(ct), reads.Now })));
        pages.MapGet("/runs", (HttpContext context, DashboardReads reads, string? stack, string? environment, CancellationToken ct) =>
            Page(context, async actor => Render<RunsPage>(new { Actor = actor, Runs = await reads.RunsAsync(stack, environment, ct), Stack = stack, Environment = environment })));
        pages.MapGet("/runs/{id}", (HttpContext context, DashboardReads reads, string id, CancellationToken ct) =>
            Page(context, async actor => await reads.RunAsync(id, ct) is { } run
                ? Render<RunPage>(new { Actor = actor, Model = run })
                : NotFound(actor, $"no run {id}")));
        // The run page's timeline alone, for run.js to refresh it as the run moves (the dashboard cookie signs it in).
        pages.MapGet("/runs/{id}/timeline", async Task<IResult> (HttpContext context, DashboardReads reads, string id, CancellationToken ct) =>
        {
            if (context.User.Identity is not { IsAuthenticated: true, Name.Length: > 0 })
            {
                return Results.Unauthorized();
            }

            return await reads.RunAsync(id, ct) is { } run ? Render<RunTimeline>(new { RunId = run.Run.Id, run.Events, run.Run.State }) : Results.NotFound();
        });
        pages.MapGet("/plans", (HttpContext context, DashboardReads reads, string? stack, string? environment, string? awaiting, CancellationToken ct) =>
            Page(context, async actor => Render<PlansPage>(new { Actor = actor, Model = await reads.PlansAsync(stack, environment, awaiting == "1", actor, ct) })));
        pages.MapGet("/plans/{id}", (HttpContext context, DashboardReads reads, DashboardOptions options, string id, string? done, CancellationToken ct) =>
            Page(context, async actor => await PlanPageAsync(context, reads, options, id, actor, done == "1" ? ("your decision was recorded", true) : null, ct)));
        pages.MapPost("/plans/{id}/approve", (HttpContext context, AirlockServices services, DashboardReads reads, DashboardOptions options, string id, CancellationToken ct) =>
            Decide(context, reads, options, id, async actor =>
            {
                // Guarded destroys the approver ticked: the same as `airlock approve --destroy ADDRESS`.
                var destroy = (await context.Request.ReadFormAsync(ct))["destroy"].Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a!).ToList();
                await new ApprovalService(services).ApproveAsync(new ApproveRequest(id, actor, destroy), ct);
            }, ct));
        pages.MapPost("/plans/{id}/reject", (HttpContext context, AirlockServices services, DashboardReads reads, DashboardOptions options, string id, CancellationToken ct) =>
            Decide(context, reads, options, id, async actor =>
            {
                var reason = (await context.Request.ReadFormAsync(ct))["reason"].ToString().Trim();
                await new ApprovalService(services).RejectAsync(new RejectRequest(id, actor, reason), ct);
            }, ct));
        pages.MapGet("/releases", (HttpContext context, DashboardReads reads, CancellationToken ct) =>
            Page(context, async actor => Render<ReleasesPage>(new { Actor = actor, Releases = await reads.ReleasesAsync(ct) })));
        pages.MapGet("/releases/{id}", (HttpContext context, DashboardReads reads, string id, CancellationToken ct) =>
            Page(context, async actor => await reads.ReleaseAsync(id, ct) is { } release
                ? Render<ReleasePage>(new { Actor = actor, Release = release })
                : NotFound(actor, $"no release {id}")));
        pages.MapGet("/evidence", (HttpContext context, DashboardReads reads, CancellationToken ct) =>
            Page(context, async actor => Render<EvidencePage>(new { Actor = actor, Model = await reads.EvidenceAsync(ct) })));
        pages.MapGet("/delivery", (HttpContext context, DashboardReads reads, string? environment, int? days, CancellationToken ct) =>
            Page(context, async actor => Render<DeliveryPage>(new { Actor = actor, Model = await reads.DeliveryAsync(environment, days ?? 30, ct) })));
    }

    /// <summary>The form token for a signed-in browser: a hash of its cookie, which only that browser can read.</summary>
    public static string FormToken(string cookie) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("airlock-dashboard-form\n" + cookie)));

    private static async Task<IResult> PlanPageAsync(HttpContext context, DashboardReads reads, DashboardOptions options, string id, string actor, (string Text, bool Ok)? message, CancellationToken ct)
    {
        if (await reads.PlanAsync(id, actor, ct) is not { } plan)
        {
            return NotFound(actor, $"no plan {id}");
        }

        var cookie = context.Request.Cookies[options.CookieName];
        var status = message is { Ok: false } ? StatusCodes.Status409Conflict : StatusCodes.Status200OK;
        return Render<PlanPage>(new { Actor = actor, Model = plan, FormToken = cookie is null ? null : FormToken(cookie), Message = message?.Text, MessageOk = message?.Ok ?? false }, status);
    }

    // A decision is taken only from the signed-in browser's own form; the actor is the cookie token's, never a field.
    private static Task<IResult> Decide(HttpContext context, DashboardReads reads, DashboardOptions options, string id, Func<string, Task> decide, CancellationToken ct) =>
        Page(context, async actor =>
        {
            var form = await context.Request.ReadFormAsync(ct);
            var cookie = context.Request.Cookies[options.CookieName];
            if (cookie is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(FormToken(cookie)), Encoding.UTF8.GetBytes(form[FormTokenField].ToString())))
            {
                return Render<MessagePage>(new { Actor = actor, Title = "Refused", Text = "this form did not come from your signed-in dashboard page: reload the page and try again" }, StatusCodes.Status403Forbidden);
            }

            try
            {
                await decide(actor);
                return Results.Redirect($"/plans/{Uri.EscapeDataString(id)}?done=1");
            }
            catch (Exception e) when (e is RefusedException or UserInputException)
            {
                return await PlanPageAsync(context, reads, options, id, actor, (e.Message.ReplaceLineEndings(" "), false), ct);
            }
        });

    private static async Task<IResult> Page(HttpContext context, Func<string, Task<IResult>> render)
    {
        if (context.User.Identity is not { IsAuthenticated: true, Name: { Length: > 0 } actor })
        {
            var back = context.Request.Path + context.Request.QueryString;
            return Results.Redirect("/login?returnUrl=" + Uri.EscapeDataString(back));
        }

        try
        {
            return await render(actor);
        }
        catch (UserInputException e)
        {
            return Render<MessagePage>(new { Actor = actor, Title = "Bad request", Text = e.Message.ReplaceLineEndings(" ") }, StatusCodes.Status400BadRequest);
        }
    }

    private static RazorComponentResult<MessagePage> NotFound(string actor, string text) =>
        Render<MessagePage>(new { Actor = actor, Title = "Not found", Text = text }, StatusCodes.Status404NotFound);

    private static RazorComponentResult<T> Render<T>(object parameters, int status = StatusCodes.Status200OK)
        where T : Microsoft.AspNetCore.Components.IComponent =>
        new(parameters) { StatusCode = status };

    // Only a path on this server: never redirect a signed-in user to another site.
    private static string LocalPath(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";

    private static IResult Asset(string name)
    {
        if (!PublicAssets.Contains(name, StringComparer.Ordinal))
        {
            return Results.NotFound();
        }

        var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("Airlock.Dashboard.Assets." + name)!;
        return Results.Stream(stream, name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8");
    }
}

/// <summary>Dashboard settings from the host.</summary>
/// <param name="CookieName">The cookie the host's token authentication reads.</param>
public sealed record DashboardOptions(string CookieName);
