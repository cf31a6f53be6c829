using System.Text;

using Airlock.Domain.Config;

namespace Airlock.Server.GitHub;

/// <summary>
/// The GitHub flow's configuration as this replica resolved it: the <c>github:</c> section (null when absent) and
/// the token and webhook secret read from the environment variables it names. Neither secret is ever logged.
/// </summary>
public sealed class GitHubFlowSettings
{
    /// <summary>Resolves the settings from the config and the process environment.</summary>
    public GitHubFlowSettings(GitHubConfig? config, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Config = config;
        if (config is not null)
        {
            Token = environment(config.TokenEnv) is { Length: > 0 } token ? token : null;
            WebhookSecret = environment(config.WebhookSecretEnv) is { Length: > 0 } secret ? Encoding.UTF8.GetBytes(secret) : null;
        }
    }

    /// <summary>The <c>github:</c> section, or null when the flow is off.</summary>
    public GitHubConfig? Config { get; }

    /// <summary>The API token, or null when its variable is unset.</summary>
    public string? Token { get; }

    /// <summary>The webhook secret's bytes, or null when its variable is unset (then every webhook is refused).</summary>
    public byte[]? WebhookSecret { get; }
}
