using System.Text.Json;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Store;
using Airlock.Testing;

namespace Airlock.Cli.Tests;

/// <summary>`airlock locks`, `airlock queue` and `airlock unlock` against a real workspace SQLite store.</summary>
public sealed class StoreCommandsTests : IDisposable
{
    private static readonly LockKey Network = LockKey.Stack("acme", "prod", "123456789012", "eu-west-1", "network");
    private readonly TempDir _workspace = new("airlock-cli-store");

    public void Dispose() => _workspace.Dispose();

    private async Task SeedAsync()
    {
        await using var store = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default);
        await store.Runs.CreateAsync("run-42", "network", "prod", "applying", "alice", default);
        await store.Locks.TryAcquireAsync(Network, new LockRequest("run-42", "alice", "apply network", TimeSpan.FromHours(1)), default);
        var queue = new QueueDefinition("prod-network", new QueueMatch("prod", ["network"]), 1, null, ["emergency", "standard"], StalePlanPolicy.Replan);
        await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-42", "prod", "network", "standard", null, [Network]), default);
        await store.Queues.ClaimAsync(queue, "worker-1", default);
        await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-43", "prod", "network", "standard", null, [Network]), default);
        await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-44", "prod", "network", "emergency", null, [], "waiting for approval"), default);
    }

    [Fact]
    public async Task Locks_json_lists_key_holder_and_token()
    {
        await SeedAsync();
        var result = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "locks", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.Stdout);
        var entry = Assert.Single(doc.RootElement.GetProperty("locks").EnumerateArray().ToList());
        Assert.Equal(Network.Value, entry.GetProperty("key").GetString());
        Assert.Equal("stack", entry.GetProperty("kind").GetString());
        Assert.Equal("run-42", entry.GetProperty("run_id").GetString());
        Assert.Equal("alice", entry.GetProperty("actor").GetString());
        Assert.Equal(1, entry.GetProperty("fencing_token").GetInt64());
        Assert.False(entry.GetProperty("expired").GetBoolean());
    }

    [Fact]
    public async Task Locks_table_shows_the_holder_and_an_empty_workspace_says_so()
    {
        var empty = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "locks");
        Assert.Equal(0, empty.ExitCode);
        Assert.Contains("No locks held.", empty.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(AirlockStores.WorkspaceDatabasePath(_workspace.Path)), "looking must not create a store");

        await SeedAsync();
        var result = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "locks");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("run-42", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("apply network", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queue_json_shows_running_and_waiting_items_with_position_and_reason()
    {
        await SeedAsync();
        var result = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "queue", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.Stdout);
        var queue = Assert.Single(doc.RootElement.GetProperty("queues").EnumerateArray().ToList());
        Assert.Equal("prod-network", queue.GetProperty("queue").GetString());
        Assert.Equal("run-42", Assert.Single(queue.GetProperty("current").EnumerateArray().ToList()).GetProperty("run_id").GetString());
        var waiting = queue.GetProperty("waiting").EnumerateArray().ToList();
        Assert.Equal(["run-44", "run-43"], waiting.Select(w => w.GetProperty("run_id").GetString()));
        Assert.Equal([1, 2], waiting.Select(w => w.GetProperty("position").GetInt32()));
        Assert.Equal("waiting for approval", waiting[0].GetProperty("blocked_reason").GetString());
        Assert.Contains("held by run run-42", waiting[1].GetProperty("blocked_reason").GetString(), StringComparison.Ordinal);

        var table = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "queue");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("prod-network (concurrency ?)", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("waiting for approval", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queue_limits_come_from_the_workspace_airlock_yaml()
    {
        await SeedAsync();
        File.Copy(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml"), _workspace.File("airlock.yaml"));

        var json = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "queue", "--json");
        var table = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "queue");

        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(1, Assert.Single(doc.RootElement.GetProperty("queues").EnumerateArray().ToList()).GetProperty("concurrency").GetInt32());
        Assert.Contains("prod-network (concurrency 1)", table.Stdout, StringComparison.Ordinal);

        File.WriteAllText(_workspace.File("airlock.yaml"), "version: 1\nnot_a_key: 1\n");
        var invalid = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "queue");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("is not valid (run `airlock validate`)", invalid.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_refuses_an_unauthorised_actor_with_one_line_and_keeps_the_lock()
    {
        await SeedAsync();
        var result = await CliRunner.RunAsync(_workspace.Path, new Dictionary<string, string?> { ["AIRLOCK_LOCK_ADMINS"] = "bob" }, "unlock", Network.Value, "--reason", "stuck", "--as", "mallory");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("airlock: 'mallory' may not force-unlock", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        await using var store = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default);
        Assert.Single(await store.Locks.ListAsync(default));
    }

    [Fact]
    public async Task Unlock_by_an_administrator_removes_the_lock_and_records_it_on_the_run()
    {
        await SeedAsync();
        var result = await CliRunner.RunAsync(_workspace.Path, new Dictionary<string, string?> { ["AIRLOCK_LOCK_ADMINS"] = "ops,bob" }, "unlock", Network.Value, "--reason", "runner host died", "--as", "bob");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("run-42", result.Stdout, StringComparison.Ordinal);
        await using var store = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default);
        Assert.Empty(await store.Locks.ListAsync(default));
        var last = (await store.Runs.ReadEventsAsync("run-42", default))[^1];
        Assert.Equal((RunState.NeedsReconciliation.WireName(), "bob"), (last.To, last.Actor));
        Assert.Contains("runner host died", last.Detail, StringComparison.Ordinal);

        var again = await CliRunner.RunAsync(_workspace.Path, new Dictionary<string, string?> { ["AIRLOCK_LOCK_ADMINS"] = "bob" }, "unlock", Network.Value, "--reason", "x", "--as", "bob");
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"airlock: lock {Network.Value} is not held", again.Stderr.Trim());
    }

    [Fact]
    public async Task Unlock_with_a_malformed_key_fails_with_one_line()
    {
        var result = await CliRunner.RunAsync(_workspace.Path, new Dictionary<string, string?> { ["AIRLOCK_LOCK_ADMINS"] = "bob" }, "unlock", "bogus:thing", "--reason", "x", "--as", "bob");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("airlock: lock key 'bogus:thing' has unknown kind 'bogus' (expected freeze, semantic, stack or state)", result.Stderr.Trim());
    }

    private const string AdminsConfig = """
        version: 1
        project: acme
        teams:
          ops: [bob, erin]
          platform: [alice]
        environments:
          prod:
            approvals: { required: 1, roles: [platform] }
        locks:
          admins: [ops]
        """;

    [Fact]
    public async Task Unlock_lets_members_of_the_locks_admins_teams_from_airlock_yaml_and_no_one_else()
    {
        await SeedAsync();
        await File.WriteAllTextAsync(Path.Combine(_workspace.Path, "airlock.yaml"), AdminsConfig);
        var noEnv = new Dictionary<string, string?> { ["AIRLOCK_LOCK_ADMINS"] = null };

        var refused = await CliRunner.RunAsync(_workspace.Path, noEnv, "unlock", Network.Value, "--reason", "stuck", "--as", "alice");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("airlock: 'alice' may not force-unlock: not one of the lock administrators (bob, erin)", refused.Stderr.Trim());
        await using (var store = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default))
        {
            Assert.Single(await store.Locks.ListAsync(default));
        }

        var result = await CliRunner.RunAsync(_workspace.Path, noEnv, "unlock", Network.Value, "--reason", "runner host died", "--as", "erin");
        Assert.True(result.ExitCode == 0, result.ToString());
        await using var after = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default);
        Assert.Empty(await after.Locks.ListAsync(default));
        var last = (await after.Runs.ReadEventsAsync("run-42", default))[^1];
        Assert.Equal((RunState.NeedsReconciliation.WireName(), "erin"), (last.To, last.Actor));
    }

    [Fact]
    public async Task The_break_glass_variable_adds_operators_to_the_configured_admins()
    {
        await SeedAsync();
        await File.WriteAllTextAsync(Path.Combine(_workspace.Path, "airlock.yaml"), AdminsConfig);
        var result = await CliRunner.RunAsync(_workspace.Path, new Dictionary<string, string?> { ["AIRLOCK_LOCK_ADMINS"] = "oncall-carol" }, "unlock", Network.Value, "--reason", "admins asleep", "--as", "oncall-carol");
        Assert.True(result.ExitCode == 0, result.ToString());
        await using var store = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default);
        Assert.Empty(await store.Locks.ListAsync(default));
    }

    [Fact]
    public async Task An_unknown_admin_team_is_a_located_config_error_and_unlock_refuses_to_guess()
    {
        await SeedAsync();
        var path = Path.Combine(_workspace.Path, "airlock.yaml");
        await File.WriteAllTextAsync(path, AdminsConfig.Replace("admins: [ops]", "admins: [opz]", StringComparison.Ordinal));

        var validate = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "validate", path);
        Assert.NotEqual(0, validate.ExitCode);
        Assert.Contains("airlock.yaml:10:12", validate.Stdout + validate.Stderr, StringComparison.Ordinal);
        Assert.Contains("locks.admins names team 'opz', which does not exist", validate.Stdout + validate.Stderr, StringComparison.Ordinal);

        var result = await CliRunner.RunAsync(_workspace.Path, new Dictionary<string, string?> { ["AIRLOCK_LOCK_ADMINS"] = "bob" }, "unlock", Network.Value, "--reason", "x", "--as", "bob");
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"airlock: {path}:10:12: locks.admins names team 'opz'", result.Stderr, StringComparison.Ordinal);
        await using var store = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default);
        Assert.Single(await store.Locks.ListAsync(default));
    }

    [Fact]
    public async Task Queue_shows_a_claim_whose_lease_lapsed_as_abandoned_and_not_as_running()
    {
        var queue = new QueueDefinition("prod-network", new QueueMatch("prod", ["network"]), 1, null, ["emergency", "standard"], StalePlanPolicy.Replan);
        await using (var store = await AirlockStores.OpenWorkspaceAsync(_workspace.Path, new StoreOptions(), default))
        {
            await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-dead", "prod", "network", "standard", null, [Network]), default);
            await store.Queues.ClaimAsync(queue, "pid-4242", TimeSpan.FromMilliseconds(1), default);
            await Task.Delay(20);
            await store.Queues.EnqueueAsync(queue, new EnqueueRequest("run-alive", "prod", "network", "standard", null, [Network]), default);
            Assert.Equal("run-alive", (await store.Queues.ClaimAsync(queue, "pid-7", TimeSpan.FromHours(1), default))!.RunId);
        }

        var result = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "queue", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.Stdout);
        var view = Assert.Single(doc.RootElement.GetProperty("queues").EnumerateArray().ToList());
        Assert.Equal("run-alive", Assert.Single(view.GetProperty("current").EnumerateArray().ToList()).GetProperty("run_id").GetString());
        var abandoned = Assert.Single(view.GetProperty("abandoned").EnumerateArray().ToList());
        Assert.Equal("run-dead", abandoned.GetProperty("run_id").GetString());
        Assert.StartsWith("abandoned by pid-4242 at ", abandoned.GetProperty("description").GetString(), StringComparison.Ordinal);

        var table = await CliRunner.RunAsync(_workspace.Path, (IDictionary<string, string?>?)null, "queue");
        Assert.True(table.ExitCode == 0, table.ToString());
        // The table wraps the Why column at 80 characters, so look at the row's first line and the claimer separately.
        Assert.Contains(table.Stdout.Split('\n'), line => line.Contains("run-dead", StringComparison.Ordinal) && line.Contains("abandoned", StringComparison.Ordinal));
        Assert.DoesNotContain(table.Stdout.Split('\n'), line => line.Contains("run-dead", StringComparison.Ordinal) && line.Contains("running", StringComparison.Ordinal));
        Assert.Contains("pid-4242", table.Stdout, StringComparison.Ordinal);
    }
}
