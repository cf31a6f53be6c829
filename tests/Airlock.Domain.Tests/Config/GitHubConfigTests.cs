using Airlock.Domain.Config;

using static Airlock.Domain.Config.ConfigDiagnosticCodes;

namespace Airlock.Domain.Tests.Config;

/// <summary>The <c>github:</c> section: defaults, identity mapping, apply requirements, and what is refused.</summary>
public class GitHubConfigTests
{
    private const string Head = "version: 1\nproject: p\nenvironments: { dev: {}, prod: {} }\n";

    private static ConfigLoadResult Load(string github) => WorkspaceConfigLoader.Load(Head + github, "airlock.yaml");

    [Fact]
    public void Defaults_are_the_public_api_origin_the_documented_variables_and_every_apply_requirement()
    {
        var result = Load("github: { repository: acme/infra }\n");
        Assert.True(result.IsValid, string.Join("; ", result.Diagnostics));
        var github = result.Config!.GitHub!;
        Assert.Equal("https://api.github.com", github.ApiUrl);
        Assert.Equal("origin", github.Remote);
        Assert.Equal("AIRLOCK_GITHUB_TOKEN", github.TokenEnv);
        Assert.Equal("AIRLOCK_GITHUB_WEBHOOK_SECRET", github.WebhookSecretEnv);
        Assert.Equal([GitHubApplyRequirement.Approved, GitHubApplyRequirement.Mergeable, GitHubApplyRequirement.UpToDate], github.ApplyRequirements.AsEnumerable());
        Assert.Empty(github.Environments);
        Assert.Null(github.ActorFor("octocat")); // unmapped logins act as nobody
        Assert.Null(WorkspaceConfigLoader.Load(Head, "airlock.yaml").Config!.GitHub);
    }

    [Fact]
    public void Logins_map_case_insensitively_then_by_pattern_and_an_enterprise_url_is_kept_without_its_slash()
    {
        var result = Load(
            """
            github:
              repository: acme/infra
              api_url: https://github.acme.example/api/v3/
              environments: [dev]
              users: { OctoCat: alice@example.com }
              user_pattern: "{login}@acme.example"
              apply_requirements: [mergeable]
            """);
        Assert.True(result.IsValid, string.Join("; ", result.Diagnostics));
        var github = result.Config!.GitHub!;
        Assert.Equal("https://github.acme.example/api/v3", github.ApiUrl);
        Assert.Equal("alice@example.com", github.ActorFor("octocat"));
        Assert.Equal("hubot@acme.example", github.ActorFor("Hubot"));
        Assert.Equal([GitHubApplyRequirement.Mergeable], github.ApplyRequirements.AsEnumerable());
        Assert.Equal(["dev"], github.Environments.AsEnumerable());
    }

    [Theory]
    [InlineData("github: { api_url: https://api.github.com }", MissingKey, "repository")]
    [InlineData("github: { repository: infra }", BadValue, "github.repository must be owner/name, not 'infra'")]
    [InlineData("github: { repository: a/b, api_url: 'ftp://x' }", BadValue, "github.api_url must be an http(s) URL")]
    [InlineData("github: { repository: a/b, user_pattern: team@acme.example }", BadValue, "github.user_pattern must contain {login}")]
    [InlineData("github: { repository: a/b, environments: [staging] }", UnknownEnvironment, "github.environments names environment 'staging'")]
    [InlineData("github: { repository: a/b, apply_requirements: [green] }", UnknownValue, "green")]
    public void Bad_settings_are_located_and_named(string github, string code, string text)
    {
        var result = Load(github + "\n");
        Assert.False(result.IsValid);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(code, diagnostic.Code);
        Assert.Contains(text, diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(4, diagnostic.Line);
    }
}
