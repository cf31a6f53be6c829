using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Airlock.Server.GitHub;

/// <summary>The parts of a pull request the flow reads (GET /repos/{owner}/{repo}/pulls/{number}).</summary>
/// <param name="Number">The number.</param>
/// <param name="State">"open" or "closed".</param>
/// <param name="Author">The author's login.</param>
/// <param name="HeadSha">The head commit.</param>
/// <param name="BaseRef">The base branch name.</param>
/// <param name="BaseSha">The base commit GitHub compares with.</param>
/// <param name="Mergeable">True/false once GitHub has computed it; null while it has not.</param>
/// <param name="MergeableState">clean, behind, dirty, blocked, unstable, unknown…</param>
public sealed record PullRequestInfo(int Number, string State, string Author, string HeadSha, string BaseRef, string BaseSha, bool? Mergeable, string? MergeableState);

/// <summary>A call to the GitHub API failed; the message is one line and never holds the token.</summary>
public sealed class GitHubApiException(string message) : Exception(message);

/// <summary>
/// The GitHub REST API calls the pull-request flow makes, over a typed <see cref="HttpClient"/> whose base address is
/// <c>github.api_url</c> (api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server).
/// </summary>
public sealed class GitHubClient
{
    private readonly HttpClient _http;
    private readonly string _repository;

    /// <summary>Configures <paramref name="http"/> for the API: base address, token, media type, API version.</summary>
    public GitHubClient(HttpClient http, GitHubFlowSettings settings)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(settings);
        _http = http;
        var config = settings.Config ?? throw new InvalidOperationException("the GitHub flow is not configured");
        _repository = config.Repository;
        _http.BaseAddress = new Uri(config.ApiUrl.TrimEnd('/') + "/");
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("airlock", "1"));
        _http.DefaultRequestHeaders.Add("X-GitHub-Api-Version", "2022-11-28");
        if (settings.Token is { Length: > 0 } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>The pull request, as GitHub sees it now.</summary>
    public async Task<PullRequestInfo> GetPullRequestAsync(int number, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync($"repos/{_repository}/pulls/{number}", cancellationToken);
        await EnsureSuccessAsync(response, $"reading pull request #{number}", cancellationToken);
        var pr = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken) ?? throw new GitHubApiException($"reading pull request #{number}: empty answer");
        try
        {
            return new PullRequestInfo(
                (int)pr["number"]!,
                (string)pr["state"]!,
                (string)pr["user"]!["login"]!,
                (string)pr["head"]!["sha"]!,
                (string)pr["base"]!["ref"]!,
                (string)pr["base"]!["sha"]!,
                pr["mergeable"]?.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? (bool)pr["mergeable"]! : null,
                pr["mergeable_state"]?.GetValueKind() == JsonValueKind.String ? (string)pr["mergeable_state"]! : null);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new GitHubApiException($"reading pull request #{number}: the answer lacks number, state, user, head or base");
        }
    }

    /// <summary>Posts a comment on the pull request (its issue).</summary>
    public async Task CommentAsync(int number, string body, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync($"repos/{_repository}/issues/{number}/comments", new JsonObject { ["body"] = FitComment(body) }, cancellationToken);
        await EnsureSuccessAsync(response, $"commenting on #{number}", cancellationToken);
    }

    /// <summary>GitHub refuses a comment body over this many characters (422 "body is too long").</summary>
    public const int MaxCommentLength = 65_536;

    /// <summary>
    /// <paramref name="body"/>, or its start with a line saying it was cut when it is over
    /// <see cref="MaxCommentLength"/>: a long comment must not turn into no comment.
    /// </summary>
    public static string FitComment(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body.Length <= MaxCommentLength)
        {
            return body;
        }

        const string Cut = "\n\n_… cut at GitHub's 65,536-character limit._\n";
        var keep = MaxCommentLength - Cut.Length;

        // Never split a surrogate pair: half a character is not UTF-16 GitHub accepts.
        if (char.IsHighSurrogate(body[keep - 1]))
        {
            keep--;
        }

        return body[..keep] + Cut;
    }

    /// <summary>Sets a commit status (<paramref name="state"/>: pending, success, failure, error) under <paramref name="context"/>.</summary>
    public async Task SetStatusAsync(string sha, string state, string context, string description, string? targetUrl, CancellationToken cancellationToken)
    {
        var status = new JsonObject
        {
            ["state"] = state,
            ["context"] = context,
            // GitHub refuses descriptions over 140 characters.
            ["description"] = description.Length <= 140 ? description : description[..137] + "...",
        };
        if (targetUrl is not null)
        {
            status["target_url"] = targetUrl;
        }

        using var response = await _http.PostAsJsonAsync($"repos/{_repository}/statuses/{sha}", status, cancellationToken);
        await EnsureSuccessAsync(response, $"setting status {context} on {sha[..Math.Min(7, sha.Length)]}", cancellationToken);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var message = "";
        try
        {
            message = (string?)(await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))?["message"] ?? "";
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page): the status code says enough.
        }

        throw new GitHubApiException($"{what}: GitHub answered {(int)response.StatusCode}{(message.Length > 0 ? " " + message.ReplaceLineEndings(" ") : "")}");
    }
}
