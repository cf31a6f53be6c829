using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Cli.Commands;

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
    public static async Task<int> RunAsync(string url, Func<ServerClient, Task<int>> body)
    {
        try
        {
            using var client = Create(url, Environment.GetEnvironmentVariable(TokenVariable));
            return await body(client);
        }
        catch (ServerException e)
        {
            return GovernedCommand.Fail(e.ExitCode, e.Message);
        }
    }

    public static ServerClient Create(string url, string? token)
    {
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new ServerException(ExitCodes.BadInput, null, $"--server \"{url}\" is not an http(s) URL");
        }

        if (string.IsNullOrWhiteSpace(token))
        {
            throw new ServerException(ExitCodes.BadInput, null, $"--server needs an API token in {TokenVariable} (airlock token create --actor YOU on the server)");
        }

        var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(100) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        return new ServerClient(http, baseAddress);
    }

    public Task<JsonObject> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    public Task<JsonObject> PostAsync(string path, object body, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }, cancellationToken);

    public void Dispose() => _http.Dispose();

    /// <summary>A query string from the values that are set.</summary>
    public static string Query(params (string Name, object? Value)[] parameters)
    {
        var set = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture)!)}").ToList();
        return set.Count == 0 ? string.Empty : "?" + string.Join('&', set);
    }

    private async Task<JsonObject> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new ServerException(ExitCodes.Failed, null, $"cannot reach the server at {BaseAddress}: {e.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ServerException(ExitCodes.Failed, null, $"the server at {BaseAddress} did not answer in time");
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    try
                    {
                        return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
                    }
                    catch (JsonException)
                    {
                        throw new ServerException(ExitCodes.Failed, response.StatusCode, $"the server at {BaseAddress} answered {request.RequestUri} with something that is not Airlock JSON");
                    }
                }

                throw Failure(response.StatusCode, text);
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
            _ => new ServerException(ExitCodes.Failed, status, $"the server at {BaseAddress} answered {(int)status}: {title ?? "no detail"}"),
        };
    }
}
