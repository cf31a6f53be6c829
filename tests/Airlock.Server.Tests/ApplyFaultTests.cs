using System.Net.Http.Json;
using System.Text.Json.Nodes;

using Airlock.Store;

using Microsoft.Data.Sqlite;

namespace Airlock.Server.Tests;

/// <summary>
/// A fault of Airlock's own bookkeeping under a run (the store refusing one of the run's writes, while it still takes
/// the others) ends the apply request at once with "airlock failed: …", not "abandoned" when its claim lapses; the run
/// is settled as the reconciler would settle it, and the worker goes on to the next request. The store is the real
/// SQLite database of the replica; the fault is a trigger in it that refuses one kind of write.
/// </summary>
public sealed class ApplyFaultTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    // Storing the run's details right after creating it: the run is left requested (no lock, nothing changed).
    [InlineData("BEFORE INSERT ON run_details", "requested", "failed", null)]
    // Recording applying → verifying after the engine applied: the outcome is unknown, the stack must stay blocked.
    [InlineData("BEFORE INSERT ON run_events WHEN NEW.to_state = 'verifying'", "applying", "needs_reconciliation", "runner_failure")]
    public async Task A_store_fault_under_a_run_completes_its_request_at_once_settles_the_run_and_the_worker_goes_on(
        string trigger, string leftIn, string settledState, string? failureClass)
    {
        // A two-minute lease: an abandonment would take that long, so a request done within seconds was completed.
        await using var server = await ServerHarness.StartAsync(workers: 1, lease: TimeSpan.FromMinutes(2));
        var store = server.Host.Services.Store;
        await SqlAsync(server, $"CREATE TRIGGER test_fault {trigger} BEGIN SELECT RAISE(ABORT, 'the test refuses this write'); END");

        var bob = await server.ClientAsync("bob@example.com");
        var runId = await PostApplyAsync(server, bob);
        var request = await WaitForRequestAsync(bob, runId, TimeSpan.FromSeconds(60));

        Assert.Equal("done", (string?)request["status"]);
        var outcome = (string)request["outcome"]!;
        Assert.StartsWith("airlock failed: SqliteException: ", outcome, StringComparison.Ordinal);
        Assert.Contains("the test refuses this write", outcome, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', outcome);
        var log = await store.RunLogs.ReadAsync(runId, 0, 10_000, None);
        Assert.Equal(outcome, log[^1].Line);

        // The run: settled from where the fault left it, with the reason, as the reconciler would have done later.
        var run = await store.Runs.GetAsync(runId, None);
        Assert.Equal(settledState, run!.State);
        var last = (await store.Runs.ReadEventsAsync(runId, None))[^1];
        Assert.Equal((leftIn, settledState), (last.From, last.To));
        Assert.StartsWith(outcome + $" while the run was {leftIn}", last.Detail, StringComparison.Ordinal);
        Assert.Equal(failureClass, (await store.Runs.GetDetailsAsync(runId, None))?.FailureClass);

        // The worker is still there: with the store whole again, a fresh plan's apply runs to the end.
        await SqlAsync(server, "DROP TRIGGER test_fault");
        var next = await PostApplyAsync(server, bob);
        var nextRequest = await WaitForRequestAsync(bob, next, TimeSpan.FromSeconds(90));
        Assert.Equal(("done", "succeeded"), ((string?)nextRequest["status"], (string?)nextRequest["outcome"]));
    }

    private static async Task<string> PostApplyAsync(ServerHarness server, HttpClient client)
    {
        var plan = await server.PlanAsync("alice@example.com", "dev");
        var posted = await client.PostAsJsonAsync("api/applies", new JsonObject { ["plan_id"] = plan.Record.PlanId });
        posted.EnsureSuccessStatusCode();
        return (string)(await posted.Content.ReadFromJsonAsync<JsonObject>())!["run_id"]!;
    }

    private static async Task<JsonObject> WaitForRequestAsync(HttpClient client, string runId, TimeSpan within)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        while (true)
        {
            var request = (await client.GetFromJsonAsync<JsonObject>($"api/applies/{runId}"))!;
            if ((string?)request["status"] is "done" or "abandoned")
            {
                return request;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"apply request {runId} is still {(string?)request["status"]} after {within}");
            await Task.Delay(100);
        }
    }

    private static async Task SqlAsync(ServerHarness server, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={AirlockStores.WorkspaceDatabasePath(server.Root)};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
