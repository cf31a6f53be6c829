using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Cli.Commands;
using Airlock.Domain.Evidence;

namespace Airlock.Cli.Client;

/// <summary>An API answer that is not a success, as the exit code and one line the CLI prints.</summary>
internal sealed class ServerException(int exitCode, HttpStatusCode? status, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// The CLI's side of <c>--server URL</c>: a thin HTTP client of the server's API with the token from
/// <c>AIRLOCK_TOKEN</c>. Commands fetch the same JSON shapes the local store gives them and render it the same way.
/// </summary>
internal sealed class ServerClient : IDisposable
{
    /// <summary>Where the API token comes from (never an option: it would end up in shell history).</summary>
    public const string TokenVariable = "AIRLOCK_TOKEN";

    private readonly HttpClient _http;

    private ServerClient(HttpClient http, Uri baseAddress)
    {
        _http = http;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static Option<string?> ServerOption() => new("--server")
    {
        Description = $"Work against this Airlock server's API (token from {TokenVariable}) instead of the local store.",
    };

    /// <summary>Runs <paramref name="body"/> with a client for <paramref name="url"/>, mapping every failure to one line and an exit code.</summary>
    public static async Task<int> RunAsync(string url, Func<ServerClient, Task<int>> body, TimeSpan? timeout = null)
    {
        try
        {
            using var client = Create(url, Environment.GetEnvironmentVariable(TokenVariable), timeout);
            return await body(client);
        }
        catch (ServerException e)
        {
            return GovernedCommand.Fail(e.ExitCode, e.Message);
        }
    }

    /// <summary>A client for <paramref name="url"/> with the token from <see cref="TokenVariable"/>.</summary>
    public static ServerClient FromEnvironment(string url) => Create(url, Environment.GetEnvironmentVariable(TokenVariable));

    /// <summary>How long a call waits by default.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(100);

    /// <summary>How long a call that holds the request for the work itself waits (POST /api/plans returns when the plan is stored).</summary>
    public static readonly TimeSpan LongTimeout = TimeSpan.FromMinutes(30);

    public static ServerClient Create(string url, string? token, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new ServerException(ExitCodes.BadInput, null, $"--server \"{url}\" is not an http(s) URL");
        }

        if (string.IsNullOrWhiteSpace(token))
        {
            throw new ServerException(ExitCodes.BadInput, null, $"--server needs an API token in {TokenVariable} (airlock token create --actor YOU on the server)");
        }

        var http = new HttpClient { BaseAddress = baseAddress, Timeout = timeout ?? DefaultTimeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        return new ServerClient(http, baseAddress);
    }

    public Task<JsonObject> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    public Task<JsonObject> PostAsync(string path, object body, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }, cancellationToken);

    /// <summary>Awaits <paramref name="call"/>, turning the server's 404 into the command's own one-line <paramref name="unknown"/> (exit 2, as locally).</summary>
    public static async Task<JsonObject> UnlessUnknownAsync(Task<JsonObject> call, string unknown)
    {
        try
        {
            return await call;
        }
        catch (ServerException e) when (e.Status == HttpStatusCode.NotFound)
        {
            throw new ServerException(ExitCodes.BadInput, e.Status, unknown);
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A query string from the values that are set.</summary>
    public static string Query(params (string Name, object? Value)[] parameters)
    {
        var set = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture)!)}").ToList();
        return set.Count == 0 ? string.Empty : "?" + string.Join('&', set);
    }

    /// <summary>
    /// The server's evidence chain, every record in sequence order, read a page at a time from GET /api/evidence, so
    /// the evidence queries (list, show) run over it exactly as over the local store.
    /// </summary>
    public async IAsyncEnumerable<ChainRecord> EvidenceRecordsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = 0;
        while (true)
        {
            var page = await GetAsync("api/evidence" + Query(("after", after), ("limit", 1000)), cancellationToken);
            foreach (var r in page["records"]!.AsArray().Select(r => r!))
            {
                yield return new ChainRecord(
                    (long)r["sequence"]!,
                    (string)r["kind"]!,
                    (string?)r["run_id"],
                    DateTimeOffset.Parse((string)r["recorded_at"]!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind),
                    r["payload"]!.ToJsonString(),
                    (string)r["previous_hash"]!,
                    (string)r["hash"]!);
            }

            if ((long?)page["next_after"] is not { } next)
            {
                yield break;
            }

            after = next;
        }
    }

    public Task<JsonObject> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, path), cancellationToken);

    /// <summary>
    /// A successful response whose body is read as it arrives (an NDJSON export, an event stream); failures are mapped
    /// as for the JSON calls. The caller disposes it.
    /// </summary>
    public async Task<HttpResponseMessage> OpenAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ServerException(ExitCodes.Failed, null, $"cannot reach the server at {BaseAddress}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerException(ExitCodes.Failed, null, $"the server at {BaseAddress} did not answer in time");
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw Failure(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
    }

    /// <summary>
    /// Follows a run's log (GET /api/runs/{id}/log, Server-Sent Events) until its <c>end</c> event, passing each log
    /// line and state change to <paramref name="onEvent"/>; reconnects with <c>Last-Event-ID</c> when the stream
    /// breaks (a replica restarting), so no line is shown twice. Returns the <c>end</c> event's data.
    /// </summary>
    public async Task<JsonObject> FollowLogAsync(string runId, Action<string, JsonObject> onEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        long lastId = 0;
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/runs/{Uri.EscapeDataString(runId)}/log");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (lastId > 0)
            {
                request.Headers.Add("Last-Event-ID", lastId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            try
            {
                using var response = await OpenAsync(request, cancellationToken);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
                string? type = null;
                long? id = null;
                var data = new System.Text.StringBuilder();
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.Length == 0)
                    {
                        if (data.Length > 0 && JsonNode.Parse(data.ToString()) is JsonObject payload)
                        {
                            if (type == "end")
                            {
                                return payload;
                            }

                            onEvent(type ?? "message", payload);
                            lastId = id ?? lastId;
                            attempt = 1;
                        }

                        (type, id) = (null, null);
                        data.Clear();
                    }
                    else if (line.StartsWith("event:", StringComparison.Ordinal))
                    {
                        type = line["event:".Length..].Trim();
                    }
                    else if (line.StartsWith("id:", StringComparison.Ordinal))
                    {
                        id = long.Parse(line["id:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        data.Append(line["data:".Length..].TrimStart());
                    }
                }
            }
            catch (Exception e) when (attempt < 5 && !cancellationToken.IsCancellationRequested && e is IOException or HttpRequestException or ServerException { Status: null or >= HttpStatusCode.InternalServerError })
            {
                // The stream broke (or the replica is restarting): resume after the last line shown.
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                throw new ServerException(ExitCodes.Failed, null, $"lost the log stream of run {runId} from {BaseAddress}: {e.Message}");
            }
            catch (JsonException)
            {
                throw new ServerException(ExitCodes.Failed, null, $"the server at {BaseAddress} sent a log event of run {runId} that is not Airlock JSON");
            }

            if (attempt >= 5)
            {
                throw new ServerException(ExitCodes.Failed, null, $"the log stream of run {runId} from {BaseAddress} keeps ending before the run does (airlock run show {runId} --server {BaseAddress})");
            }

            await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken);
        }
    }

    private async Task<JsonObject> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            using var response = await OpenAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            try
            {
                return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException)
            {
                throw new ServerException(ExitCodes.Failed, response.StatusCode, $"the server at {BaseAddress} answered {request.RequestUri} with something that is not Airlock JSON");
            }
        }
    }

    private ServerException Failure(HttpStatusCode status, string body)
    {
        string? title = null;
        try
        {
            title = (string?)JsonNode.Parse(body)?["title"];
        }
        catch (JsonException)
        {
        }

        return status switch
        {
            HttpStatusCode.Unauthorized => new ServerException(ExitCodes.BadInput, status, $"the server at {BaseAddress} did not accept the token in {TokenVariable} (unknown, revoked or expired)"),
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound => new ServerException(ExitCodes.BadInput, status, title ?? $"the server answered {(int)status}"),
            // 403 (not eligible, not an administrator) and 409 (refused) are refusals, as locally.
            HttpStatusCode.Forbidden => new ServerException(ExitCodes.Refused, status, "refused: " + (title ?? "not allowed")),
            HttpStatusCode.Conflict => new ServerException(ExitCodes.Refused, status, title ?? "refused"),
            // 422: the work itself failed (a plan's engine step), with the same one line as locally.
            HttpStatusCode.UnprocessableEntity => new ServerException(ExitCodes.Failed, status, title ?? "failed"),
            _ => new ServerException(ExitCodes.Failed, status, $"the server at {BaseAddress} answered {(int)status}: {title ?? "no detail"}"),
        };
    }
}
