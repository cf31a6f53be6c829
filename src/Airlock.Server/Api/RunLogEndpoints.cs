using System.Globalization;
using System.Text;
using System.Text.Json;

using Airlock.Application;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>
/// A run's log, live: Server-Sent Events read from the store (so any replica streams any run), or plain text.
/// Each line is <c>id: seq</c> + <c>data: {"seq","at","stream","line"}</c>; <c>event: state</c> on state changes;
/// <c>event: end</c> once the run is final (or needs reconciliation) and its worker has finished writing, then close.
/// <c>Last-Event-ID</c> resumes after that line.
/// </summary>
internal static class RunLogEndpoints
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static void MapRunLogs(this IEndpointRouteBuilder api)
    {
        api.MapGroup("/runs").WithTags("runs").MapGet("/{id}/log", async (HttpContext http, AirlockServices services, string id, string? format, CancellationToken cancellationToken) =>
        {
            var run = await services.Store.Runs.GetAsync(id, cancellationToken);
            var request = await services.Store.ApplyRequests.GetAsync(id, cancellationToken);
            if (run is null && request is null)
            {
                throw new NotFoundException($"no run {id}");
            }

            if (format is "text")
            {
                await WriteTextAsync(http, services, id, cancellationToken);
                return;
            }

            if (format is not null and not "sse")
            {
                throw new UserInputException($"format must be sse or text, not '{format}'");
            }

            await StreamAsync(http, services, id, LastEventId(http), cancellationToken);
        }).WithName("GetRunLog").WithSummary("The run's log as Server-Sent Events (live, resumable with Last-Event-ID), or ?format=text for the plain log")
        .Produces(StatusCodes.Status200OK, contentType: "text/event-stream").Produces(StatusCodes.Status404NotFound);
    }

    private static long LastEventId(HttpContext http)
    {
        var header = http.Request.Headers["Last-Event-ID"].ToString();
        if (header.Length == 0)
        {
            return 0;
        }

        return long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
            ? seq
            : throw new UserInputException($"Last-Event-ID must be a line number, not '{header}'");
    }

    private static async Task WriteTextAsync(HttpContext http, AirlockServices services, string id, CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/plain; charset=utf-8";
        long after = 0;
        while (true)
        {
            var lines = await services.Store.RunLogs.ReadAsync(id, after, 1000, cancellationToken);
            var text = new StringBuilder();
            foreach (var line in lines)
            {
                text.Append(line.Stream == "stdout" ? string.Empty : $"[{line.Stream}] ").Append(line.Line).Append('\n');
                after = line.Seq;
            }

            await http.Response.WriteAsync(text.ToString(), cancellationToken);
            if (lines.Count < 1000)
            {
                return;
            }
        }
    }

    private static async Task StreamAsync(HttpContext http, AirlockServices services, string id, long after, CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        string? lastState = null;
        var terminalBefore = false;
        try
        {
            while (true)
            {
                var lines = await services.Store.RunLogs.ReadAsync(id, after, 500, cancellationToken);
                var output = new StringBuilder();
                foreach (var line in lines)
                {
                    var data = JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["seq"] = line.Seq,
                        ["at"] = line.At.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
                        ["stream"] = line.Stream,
                        ["line"] = line.Line,
                    });
                    output.Append(CultureInfo.InvariantCulture, $"id: {line.Seq}\ndata: {data}\n\n");
                    after = line.Seq;
                }

                // State after the lines: a final state seen here means every line written before it was already read.
                var run = await services.Store.Runs.GetAsync(id, cancellationToken);
                var request = await services.Store.ApplyRequests.GetAsync(id, cancellationToken);
                var state = run?.State ?? (request?.State == ApplyRequestStates.Pending ? "pending" : RunState.Requested.WireName());
                if (state != lastState)
                {
                    output.Append(CultureInfo.InvariantCulture, $"event: state\ndata: {JsonSerializer.Serialize(new Dictionary<string, string> { ["state"] = state })}\n\n");
                    lastState = state;
                }

                // The end: the run reached a terminal state and nobody is still writing its log (its worker marked the
                // request done); or the request ended without a run (it could not start, or its worker died first).
                // A run started outside the server (`airlock apply`, a release) has no request to say its writer is done:
                // its process stores the last lines just after the final state, so the end waits for one more poll.
                var terminal = run is not null && (RunStates.ParseWireName(run.State).IsFinal() || run.State == RunState.NeedsReconciliation.WireName());
                var writerDone = request is null ? terminalBefore : request.State is ApplyRequestStates.Done or ApplyRequestStates.Abandoned;
                terminalBefore = terminal;
                var ended = (terminal || run is null) && writerDone && lines.Count < 500;
                if (ended)
                {
                    var end = new Dictionary<string, string?> { ["state"] = run?.State, ["outcome"] = request?.Outcome };
                    output.Append(CultureInfo.InvariantCulture, $"event: end\ndata: {JsonSerializer.Serialize(end)}\n\n");
                }

                if (output.Length > 0)
                {
                    await http.Response.WriteAsync(output.ToString(), cancellationToken);
                    await http.Response.Body.FlushAsync(cancellationToken);
                }

                if (ended)
                {
                    return;
                }

                if (lines.Count < 500)
                {
                    await Task.Delay(PollInterval, services.Time, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }
}
