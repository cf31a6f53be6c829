using Airlock.Application;
using Airlock.Application.Apply;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Airlock.Server.GitHub;

/// <summary>Registers the GitHub pull-request flow in one call.</summary>
public static class GitHubFlowRegistration
{
    /// <summary>
    /// The flow's settings (from airlock.yaml's <c>github:</c> and the environment), the API client, the work queue and
    /// its worker, and the in-process launcher its applies run through (in dependency order, one after another).
    /// </summary>
    public static IServiceCollection AddGitHubFlow(this IServiceCollection services, AirlockServices airlock, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(airlock);
        var settings = new GitHubFlowSettings(airlock.Workspace.Config.GitHub, environment);
        services.AddSingleton(settings);
        services.AddSingleton<GitHubInbox>();
        services.TryAddSingleton(new InProcessApplyLauncher(airlock));
        if (settings.Config is not null)
        {
            services.AddHttpClient<GitHubClient>();
            services.AddScoped<PullRequestFlow>();
            services.AddHostedService<GitHubWorker>();
        }

        return services;
    }
}
