using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

using Airlock.Testing;

namespace Airlock.Server.Tests;

/// <summary>
/// A real replica configured for the GitHub flow, a <see cref="FakeGitHubApi"/>, a local bare repository as the
/// remote (origin), and pull request #2 (the number in the octokit example payloads) whose head changes the site's
/// index page. Webhooks are real HTTP requests signed with the configured secret.
/// </summary>
public sealed class PullRequestScenario : IAsyncDisposable
{
    /// <summary>The webhook secret the replica is configured with.</summary>
    public const string Secret = "it's a secret to everybody";

    /// <summary>The repository of the octokit example payloads.</summary>
    public const string Repository = "Codertocat/Hello-World";

    /// <summary>The pull request number of the octokit example payloads.</summary>
    public const int Number = 2;

    private readonly TempDir _dir = new("airlock-github");
    private GitHistory _clone = null!;
    private HttpClient _client = null!;

    private PullRequestScenario()
    {
    }

    /// <summary>The replica.</summary>
    public ServerHarness Server { get; private set; } = null!;

    /// <summary>The GitHub API test double.</summary>
    public FakeGitHubApi Api { get; private set; } = null!;

    /// <summary>The pull request's head commit.</summary>
    public string HeadSha { get; private set; } = "";

    /// <summary>The base branch's tip when the pull request was opened.</summary>
    public string BaseSha { get; private set; } = "";

    /// <summary>
    /// Starts everything; <paramref name="apiPrefix"/> "/api/v3" makes the fake a GitHub Enterprise Server;
    /// <paramref name="change"/> makes the pull request's change (default: a new index page).
    /// </summary>
    public static async Task<PullRequestScenario> StartAsync(string apiPrefix = "", Action<GitHistory>? change = null)
    {
        var scenario = new PullRequestScenario();
        scenario.Api = await FakeGitHubApi.StartAsync(Repository, apiPrefix);
        var remote = Path.Combine(scenario._dir.Path, "remote.git");
        scenario.Server = await ServerHarness.StartAsync("sqlite", h =>
        {
            h.Git.Write("airlock.yaml", File.ReadAllText(Path.Combine(h.Root, "airlock.yaml")) + $"""

                github:
                  repository: {Repository}
                  api_url: {scenario.Api.ApiUrl}
                  users:
                    Codertocat: bob@example.com
                    octocat: alice@example.com
                    hubot: carol@example.com
                """);
            h.Git.Commit("the GitHub flow");
            h.Git.Git("clone", "-q", "--bare", h.Root, remote);
            h.Git.Git("remote", "add", "origin", remote);
            h.SetVariable("AIRLOCK_GITHUB_TOKEN", FakeGitHubApi.Token);
            h.SetVariable("AIRLOCK_GITHUB_WEBHOOK_SECRET", Secret);
        });
        scenario.BaseSha = scenario.Server.Git.Git("rev-parse", "HEAD");

        // The contributor's clone: a branch that changes the page, pushed where GitHub keeps PR heads.
        var clone = Path.Combine(scenario._dir.Path, "clone");
        scenario.Server.Git.Git("clone", "-q", remote, clone);
        scenario._clone = new GitHistory(clone);
        scenario._clone.Git("checkout", "-q", "-b", "changes");
        if (change is null)
        {
            scenario._clone.Write("stacks/site/content/index.html", "<h1>Hello from pull request 2</h1>\n");
        }
        else
        {
            change(scenario._clone);
        }

        scenario.HeadSha = scenario._clone.Commit("A friendlier page");
        scenario._clone.Git("push", "-q", "origin", $"HEAD:refs/pull/{Number}/head");

        scenario.ServePullRequest(mergeable: true, mergeableState: "clean");
        scenario._client = new HttpClient { BaseAddress = scenario.Server.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
        return scenario;
    }

    /// <summary>An example payload from Fixtures/github (see SOURCES.md).</summary>
    public static JsonObject Fixture(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "tests", "Airlock.Server.Tests", "Fixtures", "github", name + ".json")))!.AsObject();

    /// <summary>The pull-request object the fake serves: the example's, with this repository's head, base and mergeability.</summary>
    public void ServePullRequest(bool? mergeable, string mergeableState)
    {
        var pr = Fixture("pull_request.opened")["pull_request"]!.AsObject();
        pr["head"]!["sha"] = HeadSha;
        pr["base"]!["sha"] = BaseSha;
        pr["base"]!["ref"] = "main";
        pr["mergeable"] = mergeable;
        pr["mergeable_state"] = mergeableState;
        Api.PullRequests[Number] = pr;
    }

    /// <summary>The pull_request opened event for the head.</summary>
    public JsonObject Opened()
    {
        var payload = Fixture("pull_request.opened");
        payload["pull_request"]!["head"]!["sha"] = HeadSha;
        payload["pull_request"]!["base"]!["sha"] = BaseSha;
        payload["pull_request"]!["base"]!["ref"] = "main";
        return payload;
    }

    /// <summary>An issue_comment created event on the pull request by <paramref name="login"/>.</summary>
    public static JsonObject Comment(string login, string body)
    {
        var payload = Fixture("issue_comment.created");
        payload["issue"]!["number"] = Number;
        payload["issue"]!["pull_request"] = new JsonObject { ["url"] = $"https://api.github.com/repos/{Repository}/pulls/{Number}" };
        payload["comment"]!["body"] = body;
        payload["comment"]!["user"]!["login"] = login;
        return payload;
    }

    /// <summary>An approving review of <paramref name="commit"/> by <paramref name="login"/>.</summary>
    public JsonObject Review(string login, string? commit = null)
    {
        var payload = Fixture("pull_request_review.submitted");
        payload["review"]!["state"] = "approved";
        payload["review"]!["user"]!["login"] = login;
        payload["review"]!["commit_id"] = commit ?? HeadSha;
        payload["pull_request"]!["head"]!["sha"] = HeadSha;
        return payload;
    }

    /// <summary>Posts <paramref name="payload"/> as event <paramref name="eventName"/>, signed with <paramref name="secret"/> (null: unsigned).</summary>
    public async Task<HttpResponseMessage> SendAsync(string eventName, JsonObject payload, string? secret = Secret)
    {
        var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
        using var request = new HttpRequestMessage(HttpMethod.Post, "webhooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        if (secret is not null)
        {
            // Computed here, independently of the server's code, the way GitHub documents it.
            request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
        }

        return await _client.SendAsync(request);
    }

    /// <summary>Moves the base branch on the remote past the pull request's base.</summary>
    public void MoveBase()
    {
        _clone.Git("checkout", "-q", "main");
        _clone.Write("stacks/site/content/robots.txt", "User-agent: *\nDisallow: /private/\n");
        _clone.Commit("Hide the private pages");
        _clone.Git("push", "-q", "origin", "main");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        await Server.DisposeAsync();
        await Api.DisposeAsync();
        _clone?.Dispose();
        _dir.Dispose();
    }
}
