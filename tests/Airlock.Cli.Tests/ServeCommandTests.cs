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
    public async Task Creating_and_revoking_a_token_are_chained_evidence_events_without_the_secret()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        var created = await workspace.RunAsync("token", "create", "--actor", "bob@example.com", "--teams", "platform,security", "--expires-in", "30d", "--as", "admin@example.com", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var token = JsonNode.Parse(created.Stdout)!.AsObject();
        var id = (string)token["id"]!;
        var revoked = await workspace.RunAsync("token", "revoke", id, "--as", "carol@example.com");
        Assert.True(revoked.ExitCode == 0, revoked.ToString());

        var shown = await workspace.RunAsync("evidence", "show", id, "--json");

        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.DoesNotContain((string)token["secret"]!, shown.Stdout, StringComparison.Ordinal);
        var events = JsonNode.Parse(shown.Stdout)!["records"]!.AsArray().Select(r => r!["payload"]!).ToList();
        Assert.Equal(["token_created by admin@example.com", "token_revoked by carol@example.com"], events.Select(e => $"{e["type"]} by {e["actor"]}"));
        Assert.Equal("bob@example.com", (string?)events[0]["detail"]!["token_actor"]);
        Assert.Equal("platform,security", (string?)events[0]["detail"]!["teams"]);
        var expires = DateTimeOffset.Parse((string)token["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture);
        var recorded = DateTimeOffset.Parse((string)events[0]["detail"]!["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True((recorded - expires).Duration() < TimeSpan.FromSeconds(1), $"{recorded:O} vs {expires:O}");
        var verified = await workspace.RunAsync("evidence", "verify");
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.StartsWith("OK: 2 records", verified.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_logs_json_lines_on_stdout_with_the_runs_scope_and_never_the_token()
    {
        using var workspace = await GovernedWorkspace.CreateAsync("sqlite");
        var planId = await workspace.PlanAsync("dev");
        var created = await workspace.RunAsync("token", "create", "--actor", "bob@example.com", "--as", "admin@example.com", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var secret = (string)JsonNode.Parse(created.Stdout)!["secret"]!;

        using var server = workspace.Start("serve", "--urls", "http://127.0.0.1:0", "--workers", "1");
        await server.WaitForLineAsync("airlock serve: listening on");
        using var client = new HttpClient { BaseAddress = new Uri(ListeningOn().Match(server.Output).Groups[1].Value + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var posted = await client.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = planId });
        Assert.True(posted.StatusCode == HttpStatusCode.Accepted, $"{(int)posted.StatusCode}: {await posted.Content.ReadAsStringAsync()}");
        var runId = (string)(await posted.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        JsonObject request;
        while ((string?)(request = (await client.GetFromJsonAsync<JsonObject>($"api/applies/{runId}"))!)["status"] != "done")
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"the apply never finished: {request}\n{server.Output}");
            await Task.Delay(200);
        }

        Assert.Equal("succeeded", (string?)request["outcome"]);
        // A user's mistakes are answers (400), not server faults: they must not be logged as errors with a stack.
        var unknownStack = await client.PostAsJsonAsync("api/plans", new JsonObject { ["stack"] = "nope", ["environment"] = "dev" });
        var malformed = await client.PostAsync("api/plans", new StringContent("{stack", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (unknownStack.StatusCode, malformed.StatusCode));
        await server.InterruptAsync();
        var ended = await server.WaitForExitAsync();
        Assert.Equal(0, ended.ExitCode);

        // stdout is the log stream: every line one JSON object with a timestamp, a level, a category and a message.
        var lines = ended.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var entries = lines.Select(line =>
        {
            try
            {
                return JsonNode.Parse(line)!.AsObject();
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"not a JSON log line ({e.Message}): {line}");
            }
        }).ToList();
        Assert.All(entries, e =>
        {
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string?)e["Timestamp"]);
            Assert.False(string.IsNullOrEmpty((string?)e["LogLevel"]));
            Assert.False(string.IsNullOrEmpty((string?)e["Category"]));
            Assert.NotNull(e["Message"]);
        });

        Assert.DoesNotContain(entries, e => (string?)e["LogLevel"] is "Error" or "Critical");
        Assert.Contains(entries, e => ((string?)e["Message"])!.Contains("/api/plans - 400", StringComparison.Ordinal));

        // The worker's lines carry the run, the plan and the worker as scope fields.
        var inRun = entries.Where(e => e["Scopes"] is JsonArray scopes && scopes.Any(s => (string?)s?["run_id"] == runId)).ToList();
        Assert.Contains(inRun, e => ((string?)e["Message"])!.StartsWith($"claimed the apply of {planId} requested by bob@example.com", StringComparison.Ordinal));
        Assert.Contains(inRun, e => ((string?)e["Message"])!.StartsWith("apply ended succeeded", StringComparison.Ordinal));
        var scope = inRun[0]["Scopes"]!.AsArray().First(s => (string?)s?["run_id"] == runId)!;
        Assert.Equal(planId, (string?)scope["plan_id"]);
        Assert.Matches(@"/worker-1$", (string?)scope["worker"]);

        // The human status line is on stderr, and the token's secret appears nowhere.
        Assert.Contains("airlock serve: listening on", ended.Stderr, StringComparison.Ordinal);
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
