using System.Data.Common;
using System.Text.Json;
using System.Text.RegularExpressions;

using Airlock.Application;
using Airlock.Domain.Serialization;
using Airlock.Domain.Storage;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Server.Api;

/// <summary>Thrown by endpoints when a named thing does not exist (404).</summary>
public sealed class NotFoundException(string message) : Exception(message);

/// <summary>
/// One mapping from the application's errors to HTTP, mirroring the CLI's exit codes: bad input 400, not found
/// 404, refused (approval, policy, freeze, lock…) 409, not allowed 403. The body is problem+json whose title
/// is the same one-line reason the CLI prints; no stack traces for user errors.
/// </summary>
public static partial class ApiErrors
{
    /// <summary>
    /// Installs the mapping as the app's exception handler. A user's error (status below 500) is an answer, not a
    /// fault of the server: it is not logged as an unhandled exception with its stack (the request log has its
    /// status); a server fault (500, 503) is, by the middleware, with the request's scope.
    /// </summary>
    public static void UseApiErrors(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async context =>
            {
                var (status, title) = Classify(context.Features.Get<IExceptionHandlerFeature>()?.Error);
                context.Response.StatusCode = status;
                await Results.Problem(title: title, detail: title, statusCode: status).ExecuteAsync(context);
            },
            SuppressDiagnosticsCallback = context => Classify(context.Exception).Status < StatusCodes.Status500InternalServerError,
        });

        // Errors the framework answers without a body (no such route, wrong method, a body that is not JSON):
        // under /api they get the same problem+json with a reason; dashboard pages keep theirs.
        app.UseStatusCodePages(async pages =>
        {
            var context = pages.HttpContext;
            if (!context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
            {
                return;
            }

            var status = context.Response.StatusCode;
            var title = status switch
            {
                StatusCodes.Status404NotFound => $"no API route {context.Request.Method} {context.Request.Path} (the API is described at /openapi/v1.json)",
                StatusCodes.Status405MethodNotAllowed => $"{context.Request.Path} does not take {context.Request.Method} (the API is described at /openapi/v1.json)",
                StatusCodes.Status415UnsupportedMediaType => "the request body must be JSON: send Content-Type: application/json",
                _ => ReasonPhrases.GetReasonPhrase(status),
            };
            await Results.Problem(title: title, detail: title, statusCode: status).ExecuteAsync(context);
        });
    }

    /// <summary>
    /// Makes minimal APIs throw <see cref="BadHttpRequestException"/> for a body or parameter they cannot bind (by
    /// default they do so only in Development, and elsewhere answer 400 with an empty body), so that it reaches
    /// <see cref="Classify"/> and the client gets the reason.
    /// </summary>
    public static IServiceCollection AddApiErrors(this IServiceCollection services) =>
        services.AddProblemDetails().Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

    /// <summary>The status code and one-line title for an exception.</summary>
    public static (int Status, string Title) Classify(Exception? exception) => exception switch
    {
        UserInputException e => (StatusCodes.Status400BadRequest, OneLine(e.Message)),
        BadHttpRequestException { InnerException: JsonException json } e => (e.StatusCode, "the request body is not the JSON this endpoint takes: " + JsonReason(json)),
        BadHttpRequestException e when UnboundParameter().Match(e.Message) is { Success: true } m =>
            (e.StatusCode, $"parameter {m.Groups["name"].Value}: expected {Expected(m.Groups["type"].Value)}, got \"{Truncate(m.Groups["value"].Value)}\""),
        BadHttpRequestException e => (e.StatusCode, OneLine(e.Message)),
        NotFoundException e => (StatusCodes.Status404NotFound, OneLine(e.Message)),
        RefusedException e => (StatusCodes.Status409Conflict, "refused: " + OneLine(e.Message)),
        FreezeAlreadyActiveException e => (StatusCodes.Status409Conflict, OneLine(e.Message)),
        Application.Plans.EngineFailedException e => (StatusCodes.Status422UnprocessableEntity, OneLine(e.Message)),
        UnauthorizedAccessException e => (StatusCodes.Status403Forbidden, OneLine(e.Message)),
        DbException => (StatusCodes.Status503ServiceUnavailable, "the store is not reachable"),
        _ => (StatusCodes.Status500InternalServerError, "internal error (see the server log)"),
    };

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    // System.Text.Json's message ends in "Path: $.x | LineNumber: 0 | BytePositionInLine: 7." and names .NET types
    // ("could not be converted to Airlock.Server.Api.PlanBody"); say what JSON was expected instead, and where: the
    // JSON path when it is not the root, and line and column, 1-based, as `airlock summarize` places its errors.
    private static string JsonReason(JsonException json)
    {
        var reason = JsonErrorText.Reason(OneLine(json.Message));
        var nested = json.Path is { Length: > 1 };
        if (ConvertedTo().Match(reason) is { Success: true } converted)
        {
            // Inside a record body the message may name the record rather than the property's type ({"stack": 1}
            // "could not be converted to PlanBody" at $.stack): an object expected below the root is such a case.
            var expected = Expected(converted.Groups["type"].Value);
            reason = nested && expected == "an object" ? "a value of the wrong type" : $"expected {expected}";
        }

        var at = nested ? $"{json.Path}, " : "";
        return json.LineNumber is { } line && json.BytePositionInLine is { } column
            ? $"{reason} (at {at}line {line + 1}, column {column + 1})"
            : reason;
    }

    // What a .NET type is in JSON terms, from the names the framework's messages use
    // ("System.Collections.Generic.IReadOnlyList`1[System.String]", "System.Nullable`1[System.Int32]", "Nullable<int>").
    private static string Expected(string type)
    {
        if (type.Contains("List", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) || type.Contains("Enumerable", StringComparison.Ordinal))
        {
            return "an array";
        }

        if (NullableOf().Match(type) is { Success: true } nullable)
        {
            type = nullable.Groups["inner"].Value;
        }

        return type[(type.LastIndexOf('.') + 1)..] switch
        {
            "String" or "string" => "a string",
            "Boolean" or "bool" => "true or false",
            "Int16" or "Int32" or "Int64" or "short" or "int" or "long" or "Double" or "double" or "Decimal" or "decimal" or "Single" or "float" => "a number",
            "DateTimeOffset" or "DateTime" => "a date and time (ISO 8601)",
            _ => "an object",
        };
    }

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "…";

    [GeneratedRegex(@"^(System\.)?Nullable(`1\[|<)(?<inner>[^\]>]+)[\]>]$")]
    private static partial Regex NullableOf();

    [GeneratedRegex(@"^The JSON value could not be converted to (?<type>\S+)$")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"^Failed to bind parameter ""(?<type>.+) (?<name>\w+)"" from ""(?<value>.*)""\.?$")]
    private static partial Regex UnboundParameter();
}
