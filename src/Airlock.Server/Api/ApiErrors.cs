using System.Data.Common;

using Airlock.Application;
using Airlock.Domain.Storage;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Airlock.Server.Api;

/// <summary>Thrown by endpoints when a named thing does not exist (404).</summary>
public sealed class NotFoundException(string message) : Exception(message);

/// <summary>
/// One mapping from the application's errors to HTTP, mirroring the CLI's exit codes: bad input 400, not found
/// 404, refused (approval, policy, freeze, lock…) 409, not allowed 403. The body is problem+json whose title
/// is the same one-line reason the CLI prints; no stack traces for user errors.
/// </summary>
public static class ApiErrors
{
    /// <summary>Installs the mapping as the app's exception handler.</summary>
    public static void UseApiErrors(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler(error => error.Run(async context =>
        {
            var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            var (status, title) = Classify(exception);
            if (status >= 500)
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Airlock.Server.Api").LogError(exception, "request failed: {Path}", context.Request.Path);
            }

            context.Response.StatusCode = status;
            await Results.Problem(title: title, detail: title, statusCode: status).ExecuteAsync(context);
        }));
    }

    /// <summary>The status code and one-line title for an exception.</summary>
    public static (int Status, string Title) Classify(Exception? exception) => exception switch
    {
        UserInputException e => (StatusCodes.Status400BadRequest, OneLine(e.Message)),
        BadHttpRequestException e => (StatusCodes.Status400BadRequest, OneLine(e.Message)),
        NotFoundException e => (StatusCodes.Status404NotFound, OneLine(e.Message)),
        RefusedException e => (StatusCodes.Status409Conflict, "refused: " + OneLine(e.Message)),
        FreezeAlreadyActiveException e => (StatusCodes.Status409Conflict, OneLine(e.Message)),
        Application.Plans.EngineFailedException e => (StatusCodes.Status422UnprocessableEntity, OneLine(e.Message)),
        UnauthorizedAccessException e => (StatusCodes.Status403Forbidden, OneLine(e.Message)),
        DbException => (StatusCodes.Status503ServiceUnavailable, "the store is not reachable"),
        _ => (StatusCodes.Status500InternalServerError, "internal error (see the server log)"),
    };

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
