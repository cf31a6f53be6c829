using Airlock.Dashboard;
using Airlock.Server.Api;
using Airlock.Server.GitHub;
using Airlock.Server.Metrics;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Hosting;

/// <summary>Every route of the server, one line per area, so parallel work merges cleanly.</summary>
internal static class ServerEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapStoreMetrics("/metrics");
        app.MapHealth();
        app.MapGitHubWebhooks();
        var api = app.MapGroup("/api").RequireAuthorization();
        api.MapIdentity();
        api.MapRuns();
        api.MapPlans();
        api.MapQueueAndLocks();
        api.MapFreezes();
        api.MapEvidence();
        api.MapReleases();
        api.MapApplies();
        api.MapRunLogs();
        app.MapDashboard();
    }
}
