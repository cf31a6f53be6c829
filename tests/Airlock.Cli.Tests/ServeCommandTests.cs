using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Airlock.Cli.Tests.GovernedApply;

namespace Airlock.Cli.Tests;

/// <summary>`airlock token` and `airlock serve` as real processes: a token made by the CLI authenticates against a served replica.</summary>
public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task A_token_created_by_the_cli_authenticates_against_airlock_serve_until_it_is_revoked()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        var created = await workspace.RunAsync("token", "create", "--actor", "bob@example.com", "--teams", "platform", "--as", "admin@example.com", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var token = JsonNode.Parse(created.Stdout)!.AsObject();
        var secret = (string)token["secret"]!;
        Assert.StartsWith("alk_", secret, StringComparison.Ordinal);

        var listed = await workspace.RunAsync("token", "list", "--json");
        Assert.DoesNotContain(secret, listed.Stdout, StringComparison.Ordinal);
        Assert.Equal((string?)token["id"], (string?)JsonNode.Parse(listed.Stdout)![0]!["id"]);

        using var server = CliRunner.Start(workspace.Root, null, "serve", "--urls", "http://127.0.0.1:0");
        await server.WaitForLineAsync("airlock serve: listening on");
        var address = ListeningOn().Match(server.Output).Groups[1].Value;
        using var client = new HttpClient { BaseAddress = new Uri(address + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var me = await client.GetFromJsonAsync<JsonObject>("api/me");
        Assert.Equal("bob@example.com", (string?)me!["actor"]);

        var revoked = await workspace.RunAsync("token", "revoke", (string)token["id"]!, "--as", "admin@example.com");
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/me")).StatusCode);

        await server.InterruptAsync();
        var ended = await server.WaitForExitAsync();
        Assert.Equal(0, ended.ExitCode);
        Assert.DoesNotContain(secret, ended.Stdout + ended.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_token_input_is_a_one_line_error()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        var badExpiry = await workspace.RunAsync("token", "create", "--actor", "bob@example.com", "--expires-in", "soon", "--as", "admin@example.com");
        Assert.Equal(2, badExpiry.ExitCode);
        Assert.StartsWith("airlock: --expires-in:", badExpiry.Stderr, StringComparison.Ordinal);
        Assert.Single(badExpiry.Stderr.Trim().Split('\n'));

        var unknown = await workspace.RunAsync("token", "revoke", "tok-nope", "--as", "admin@example.com");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("airlock: no active token with id tok-nope (see airlock token list)", unknown.Stderr.Trim());
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
