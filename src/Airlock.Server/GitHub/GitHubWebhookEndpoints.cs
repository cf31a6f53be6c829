using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.GitHub;

/// <summary>
/// <c>POST /webhooks/github</c>: authenticated by its signature only (no token), outside the <c>/api</c> group.
/// Verifies <c>X-Hub-Signature-256</c> over the raw body, answers <c>ping</c>, turns pull_request, issue_comment and
/// pull_request_review events into <see cref="GitHubWork"/> and acknowledges with 202 before any of it runs.
/// </summary>
public static partial class GitHubWebhookEndpoints
{
    /// <summary>The webhook path.</summary>
    public const string Path = "/webhooks/github";

    // GitHub caps payloads at 25 MB; anything larger is not GitHub.
    private const int MaxBody = 25 * 1024 * 1024;

    /// <summary>Maps the webhook endpoint.</summary>
    public static IEndpointRouteBuilder MapGitHubWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, ReceiveAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext context, GitHubFlowSettings settings, GitHubInbox queue)
    {
        if (settings.Config is not { } config)
        {
            return Results.Problem(title: "the GitHub flow is not configured (add a github: section to airlock.yaml)", statusCode: StatusCodes.Status404NotFound);
        }

        if (settings.WebhookSecret is not { } secret)
        {
            return Results.Problem(title: $"the webhook secret is not set on this server ({config.WebhookSecretEnv})", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var body = await ReadBodyAsync(context.Request, context.RequestAborted);
        if (body is null)
        {
            return Results.Problem(title: "payload too large", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        if (!WebhookSignature.IsValid(secret, body, context.Request.Headers[WebhookSignature.Header].FirstOrDefault()))
        {
            return Results.Problem(title: $"missing or invalid {WebhookSignature.Header}", statusCode: StatusCodes.Status401Unauthorized);
        }

        JsonObject payload;
        try
        {
            payload = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return Results.Problem(title: "the payload is not a JSON object", statusCode: StatusCodes.Status400BadRequest);
        }

        var eventName = context.Request.Headers["X-GitHub-Event"].FirstOrDefault() ?? "";
        var delivery = context.Request.Headers["X-GitHub-Delivery"].FirstOrDefault();
        if (eventName == "ping")
        {
            return Results.Ok(new { status = "pong", zen = Text(payload["zen"]) });
        }

        var repository = Text(payload["repository"]?["full_name"]);
        if (!string.Equals(repository, config.Repository, StringComparison.OrdinalIgnoreCase))
        {
            return Results.Problem(title: $"this server serves {config.Repository}, not {repository ?? "(no repository)"}", statusCode: StatusCodes.Status422UnprocessableEntity);
        }

        var work = Interpret(eventName, payload, delivery, out var ignored);
        if (work is null)
        {
            return Results.Ok(new { status = "ignored", reason = ignored });
        }

        return queue.TryEnqueue(work)
            ? Results.Accepted(value: new { status = "queued", command = work.Command.ToString().ToLowerInvariant(), pull_request = work.PullRequest })
            : Results.Problem(title: "too much GitHub work queued on this replica; redeliver later", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The work an event asks for, or null with the reason it asks for none.</summary>
    internal static GitHubWork? Interpret(string eventName, JsonObject payload, string? delivery, out string ignored)
    {
        var action = Text(payload["action"]);
        ignored = $"{eventName} {action} needs nothing from Airlock";
        switch (eventName)
        {
            case "pull_request" when action is "opened" or "synchronize" or "reopened":
                return Number(payload["pull_request"]?["number"] ?? payload["number"]) is { } number
                    ? new GitHubWork(GitHubCommand.Plan, number, Text(payload["sender"]?["login"]) ?? "", Text(payload["pull_request"]?["head"]?["sha"]), delivery)
                    : null;
            case "issue_comment" when action == "created":
                if (payload["issue"]?["pull_request"] is null)
                {
                    ignored = "a comment on an issue, not a pull request";
                    return null;
                }

                if (Text(payload["comment"]?["user"]?["type"]) == "Bot")
                {
                    ignored = "a comment by a bot";
                    return null;
                }

                var command = Command(Text(payload["comment"]?["body"]) ?? "");
                if (command is null || Number(payload["issue"]?["number"]) is not { } issue)
                {
                    ignored = "not an airlock command";
                    return null;
                }

                return new GitHubWork(command.Value, issue, Text(payload["comment"]?["user"]?["login"]) ?? "", null, delivery);
            case "pull_request_review" when action == "submitted":
                if (!string.Equals(Text(payload["review"]?["state"]), "approved", StringComparison.OrdinalIgnoreCase))
                {
                    ignored = "a review that does not approve";
                    return null;
                }

                return Number(payload["pull_request"]?["number"]) is { } reviewed
                    ? new GitHubWork(GitHubCommand.Approve, reviewed, Text(payload["review"]?["user"]?["login"]) ?? "", Text(payload["review"]?["commit_id"]), delivery)
                    : null;
            default:
                return null;
        }
    }

    /// <summary>The command a comment gives: its first non-empty line is <c>airlock plan|approve|apply</c>.</summary>
    internal static GitHubCommand? Command(string body)
    {
        var first = body.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        var match = CommandPattern().Match(first);
        return !match.Success ? null : match.Groups[1].Value.ToLowerInvariant() switch
        {
            "plan" => GitHubCommand.Plan,
            "approve" => GitHubCommand.Approve,
            _ => GitHubCommand.Apply,
        };
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBody)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static string? Text(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? (string?)node : null;

    private static int? Number(JsonNode? node) => node?.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue<int>(out var n) ? n : null;

    [GeneratedRegex(@"^airlock\s+(plan|approve|apply)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CommandPattern();
}
