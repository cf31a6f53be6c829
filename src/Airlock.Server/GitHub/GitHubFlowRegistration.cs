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
    /// its worker, and an in-process <see cref="IApplyLauncher"/> unless one is registered already.
    /// </summary>
    public static IServiceCollection AddGitHubFlow(this IServiceCollection services, AirlockServices airlock, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(airlock);
        var settings = new GitHubFlowSettings(airlock.Workspace.Config.GitHub, environment);
        services.AddSingleton(settings);
        services.AddSingleton<GitHubInbox>();
        services.TryAddSingleton<IApplyLauncher>(new InProcessApplyLauncher(airlock));
        if (settings.Config is not null)
        {
            services.AddHttpClient<GitHubClient>();
            services.AddScoped<PullRequestFlow>();
            services.AddHostedService<GitHubWorker>();
        }

        return services;
    }
}
