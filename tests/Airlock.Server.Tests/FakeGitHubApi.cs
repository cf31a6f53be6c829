using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Airlock.Server.Tests;

/// <summary>One request the fake API received.</summary>
public sealed record RecordedRequest(string Method, string Path, string? Authorization, JsonObject? Body);

/// <summary>
/// Test double of the GitHub REST API: a real Kestrel server on loopback, optionally under a path prefix (GitHub
/// Enterprise Server's <c>/api/v3</c>). It serves pull-request objects the test sets, accepts comments and commit
/// statuses, records every request, and checks each one's shape (path, token, media type, API version, JSON
/// fields); anything off is a <see cref="Violations"/> entry and an error answer.
/// </summary>
public sealed partial class FakeGitHubApi : IAsyncDisposable
{
    /// <summary>The token the server under test must present.</summary>
    public const string Token = "ghp_fake-token-for-tests-0123456789";

    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private WebApplication _app = null!;

    private FakeGitHubApi(string repository, string prefix)
    {
        Repository = repository;
        Prefix = prefix;
    }

    /// <summary>owner/name the fake answers for.</summary>
    public string Repository { get; }

    /// <summary>Path prefix of every API route ("" or "/api/v3").</summary>
    public string Prefix { get; }

    /// <summary>The API base URL to configure as github.api_url.</summary>
    public string ApiUrl { get; private set; } = "";

    /// <summary>Pull-request objects served by number.</summary>
    public ConcurrentDictionary<int, JsonObject> PullRequests { get; } = new();

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>Requests whose shape was wrong.</summary>
    public IReadOnlyList<string> Violations => [.. _violations];

    /// <summary>Comments posted so far (their bodies).</summary>
    public IReadOnlyList<string> Comments => [.. Requests.Where(r => r.Path.EndsWith("/comments", StringComparison.Ordinal)).Select(r => (string)r.Body!["body"]!)];

    /// <summary>Commit statuses posted so far.</summary>
    public IReadOnlyList<JsonObject> Statuses => [.. Requests.Where(r => r.Path.Contains("/statuses/", StringComparison.Ordinal)).Select(r => r.Body!)];

    /// <summary>Starts the fake on a free loopback port.</summary>
    public static async Task<FakeGitHubApi> StartAsync(string repository, string prefix = "")
    {
        var fake = new FakeGitHubApi(repository, prefix);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        fake._app = builder.Build();
        fake._app.Run(fake.HandleAsync);
        await fake._app.StartAsync();
        var address = fake._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        fake.ApiUrl = address + prefix;
        return fake;
    }

    /// <summary>Waits (up to 2 minutes) until <paramref name="count"/> requests match; returns them.</summary>
    public async Task<IReadOnlyList<RecordedRequest>> WaitForAsync(Func<RecordedRequest, bool> match, int count = 1)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var found = Requests.Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"expected {count} matching request(s), got {found.Count}; received: {string.Join(" | ", Requests.Select(r => $"{r.Method} {r.Path} {r.Body?.ToJsonString()}"))}; violations: {string.Join(" | ", Violations)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits for a comment whose body contains <paramref name="text"/>; returns the body.</summary>
    public async Task<string> WaitForCommentAsync(string text) =>
        (string)(await WaitForAsync(r => r.Path.EndsWith("/comments", StringComparison.Ordinal) && ((string?)r.Body?["body"])?.Contains(text, StringComparison.Ordinal) == true))[0].Body!["body"]!;

    /// <summary>Waits for a final (not pending) status of <paramref name="context"/>; returns it.</summary>
    public async Task<JsonObject> WaitForFinalStatusAsync(string context) =>
        (await WaitForAsync(r => r.Path.Contains("/statuses/", StringComparison.Ordinal) && (string?)r.Body?["context"] == context && (string?)r.Body?["state"] != "pending"))[0].Body!;

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        JsonObject? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await JsonNode.ParseAsync(request.Body) as JsonObject;
            }
            catch (JsonException)
            {
                _violations.Enqueue($"{request.Method} {request.Path}: body is not JSON");
            }
        }

        var path = request.Path.Value ?? "";
        _requests.Enqueue(new RecordedRequest(request.Method, path, request.Headers.Authorization.FirstOrDefault(), body));

        var problems = new List<string>();
        if (request.Headers.Authorization.FirstOrDefault() != "Bearer " + Token)
        {
            problems.Add("no or wrong bearer token");
        }

        if (!request.Headers.Accept.ToString().Contains("application/vnd.github+json", StringComparison.Ordinal))
        {
            problems.Add("Accept is not application/vnd.github+json");
        }

        if (string.IsNullOrEmpty(request.Headers.UserAgent.ToString()))
        {
            problems.Add("no User-Agent (GitHub refuses requests without one)");
        }

        if (request.Headers["X-GitHub-Api-Version"].FirstOrDefault() != "2022-11-28")
        {
            problems.Add("no X-GitHub-Api-Version");
        }

        var repos = $"{Prefix}/repos/{Repository}/";
        if (!path.StartsWith(repos, StringComparison.Ordinal))
        {
            problems.Add($"path outside {repos}");
        }

        if (problems.Count > 0)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, request, problems);
            return;
        }

        var rest = path[repos.Length..];
        if (request.Method == "GET" && PullPath().Match(rest) is { Success: true } pull)
        {
            if (PullRequests.TryGetValue(int.Parse(pull.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), out var pr))
            {
                await context.Response.WriteAsJsonAsync(pr);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new { message = "Not Found" });
            return;
        }

        if (request.Method == "POST" && CommentsPath().IsMatch(rest))
        {
            if (body?["body"]?.GetValueKind() != JsonValueKind.String || ((string)body["body"]!).Length == 0)
            {
                problems.Add("a comment needs a non-empty string body");
            }
            else if (((string)body["body"]!).Length > 65_536)
            {
                problems.Add("comment body is too long (maximum is 65536 characters)");
            }
        }
        else if (request.Method == "POST" && StatusPath().IsMatch(rest))
        {
            if ((string?)body?["state"] is not ("pending" or "success" or "failure" or "error"))
            {
                problems.Add("status state must be pending, success, failure or error");
            }

            if (body?["context"]?.GetValueKind() != JsonValueKind.String)
            {
                problems.Add("status needs a context");
            }

            if (((string?)body?["description"])?.Length is null or > 140)
            {
                problems.Add("status description missing or over 140 characters");
            }

            if (body?["target_url"] is { } url && !Uri.TryCreate((string?)url, UriKind.Absolute, out _))
            {
                problems.Add("target_url is not an absolute URL");
            }
        }
        else
        {
            problems.Add("no such route in the fake");
        }

        if (problems.Count > 0)
        {
            await RefuseAsync(context, StatusCodes.Status422UnprocessableEntity, request, problems);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status201Created;
        await context.Response.WriteAsJsonAsync(new { id = _requests.Count });
    }

    private async Task RefuseAsync(HttpContext context, int status, HttpRequest request, List<string> problems)
    {
        _violations.Enqueue($"{request.Method} {request.Path}: {string.Join("; ", problems)}");
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { message = string.Join("; ", problems) });
    }

    [GeneratedRegex("^pulls/([0-9]+)$")]
    private static partial Regex PullPath();

    [GeneratedRegex("^issues/[0-9]+/comments$")]
    private static partial Regex CommentsPath();

    [GeneratedRegex("^statuses/[0-9a-f]{40}$")]
    private static partial Regex StatusPath();
}
