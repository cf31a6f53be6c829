using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Tokens;
using Airlock.Store.Tests;

using Npgsql;

namespace Airlock.Server.Tests;

/// <summary>The host itself: health, readiness, authentication by token, OpenAPI, metrics, error mapping.</summary>
public sealed class HostTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public async Task Health_and_readiness_answer_without_a_token_and_name_the_store(string backend)
    {
        await using var server = await ServerHarness.StartAsync(backend);
        var client = await server.ClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
        var ready = await client.GetFromJsonAsync<JsonObject>("readyz");
        Assert.Equal("ready", (string?)ready!["status"]);
        Assert.Equal(backend, (string?)ready["backend"]);
    }

    [Fact]
    public async Task Readiness_is_503_while_the_database_is_unreachable_and_liveness_stays_ok()
    {
        // The replica reaches its PostgreSQL database only through a real TCP relay, which the test cuts: every
        // open connection is reset and new ones are refused, as when the database host goes down.
        var database = new NpgsqlConnectionStringBuilder(await PostgresServer.CreateDatabaseAsync());
        await using var relay = await TcpRelay.StartAsync(database.Host!, database.Port);
        await using var server = await ReadyBehindAsync(relay, database);
        var client = await server.ClientAsync();

        relay.Cut();
        for (var probe = 0; probe < 3; probe++) // a pooled connection is found broken, then new ones are refused
        {
            var down = await client.GetAsync("readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            var body = await down.Content.ReadFromJsonAsync<JsonObject>();
            Assert.Equal("store unreachable", (string?)body!["status"]);
            Assert.Equal("postgresql", (string?)body["backend"]);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
        }

        await relay.RestoreAsync();
        Assert.Equal("ready", (string?)(await client.GetFromJsonAsync<JsonObject>("readyz"))!["status"]);
    }

    [Fact]
    public async Task Readiness_is_503_within_its_timeout_when_the_database_stops_answering()
    {
        // A dead link: connections to the database stay open but nothing crosses, so nothing is ever refused.
        // Without the readiness timeout (5 s) the probe would hang until Npgsql's command timeout (30 s).
        var database = new NpgsqlConnectionStringBuilder(await PostgresServer.CreateDatabaseAsync());
        await using var relay = await TcpRelay.StartAsync(database.Host!, database.Port);
        await using var server = await ReadyBehindAsync(relay, database);
        var client = await server.ClientAsync();

        relay.Stall();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var down = await client.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("store unreachable", (string?)(await down.Content.ReadFromJsonAsync<JsonObject>())!["status"]);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task The_api_refuses_requests_without_a_valid_token_and_acts_as_the_tokens_actor()
    {
        await using var server = await ServerHarness.StartAsync();
        var anonymous = await server.ClientAsync();
        var refused = await anonymous.GetAsync("api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("Bearer", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using var forged = new HttpRequestMessage(HttpMethod.Get, "api/me");
        forged.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TokenService.SecretPrefix + "not-a-real-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(forged)).StatusCode);

        var secret = await server.TokenAsync("alice@example.com", "platform");
        using var mine = new HttpRequestMessage(HttpMethod.Get, "api/me");
        mine.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var me = await (await anonymous.SendAsync(mine)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("alice@example.com", (string?)me!["actor"]);
        Assert.Equal("platform", (string?)me["teams"]![0]);
    }

    [Fact]
    public async Task A_revoked_token_stops_working_at_once()
    {
        await using var server = await ServerHarness.StartAsync();
        var tokens = new TokenService(server.Host.Services.Store.Tokens, server.Host.Services.Time, server.Host.Services.Evidence);
        var created = await tokens.CreateAsync("bob@example.com", [], "admin@example.com", null, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.Secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/me")).StatusCode);

        await tokens.RevokeAsync(created.Token.Id, "admin@example.com", CancellationToken.None);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/me")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_api_and_metrics_are_exposed()
    {
        await using var server = await ServerHarness.StartAsync();
        var client = await server.ClientAsync();
        var document = await client.GetFromJsonAsync<JsonObject>("openapi/v1.json");
        Assert.Equal("Airlock API", (string?)document!["info"]!["title"]);
        Assert.NotNull(document["paths"]!["/api/runs"]);
        Assert.NotNull(document["paths"]!["/api/runs/{id}"]);

        var metrics = await client.GetStringAsync("metrics");
        Assert.Contains("http_requests_received_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_and_unknown_runs_get_a_one_line_problem_not_a_stack_trace()
    {
        await using var server = await ServerHarness.StartAsync();
        var client = await server.ClientAsync("alice@example.com");
        var missing = await client.GetAsync("api/runs/run-nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var problem = await missing.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("no run run-nope", (string?)problem!["title"]);

        var bad = await client.GetAsync("api/runs?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        Assert.Contains("limit must be between 1 and 1000", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Airlock.", body, StringComparison.Ordinal);
    }

    // A PostgreSQL-backed replica that reaches its database only through the relay, checked ready before the test cuts it.
    private static async Task<ServerHarness> ReadyBehindAsync(TcpRelay relay, NpgsqlConnectionStringBuilder database)
    {
        var relayed = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = relay.Port }.ToString();
        var server = await ServerHarness.StartAsync("postgresql", h => h.SetVariable("AIRLOCK_DATABASE_URL", relayed));
        var client = await server.ClientAsync();
        Assert.Equal("ready", (string?)(await client.GetFromJsonAsync<JsonObject>("readyz"))!["status"]);
        return server;
    }
}
