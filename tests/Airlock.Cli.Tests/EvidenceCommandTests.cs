using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Evidence;
using Airlock.Store;
using Airlock.Store.Keys;
using Airlock.Testing;

using Microsoft.Data.Sqlite;

namespace Airlock.Cli.Tests;

/// <summary>
/// `airlock evidence …` as a real process over a real workspace store (.airlock/airlock.db). Tampering is done in the
/// database itself, as someone with database access would.
/// </summary>
public sealed class EvidenceCommandTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
    private static readonly IDictionary<string, string?> NoEnvironment = new Dictionary<string, string?>();
    private readonly TempDir workspace = new("airlock-cli-evidence");

    public void Dispose() => workspace.Dispose();

    private string DatabasePath => AirlockStores.WorkspaceDatabasePath(workspace.Path);

    [Fact]
    public async Task Verify_of_the_workspace_log_passes_and_reports_counts()
    {
        await SeedAsync();

        var result = await Cli("evidence", "verify");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("OK: 7 records (1..7), 5 signed checkpoints verified", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_json_output_is_stable()
    {
        await SeedAsync();

        var result = await Cli("evidence", "verify", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = JsonNode.Parse(result.Stdout)!;
        Assert.True((bool)json["ok"]!);
        Assert.Equal(7, (long)json["records"]!);
        Assert.Equal(6, (long)json["last_checkpoint_sequence"]!);
        Assert.Equal(1, (long)json["unsigned_tail"]!);
        Assert.Null(json["failure"]);
        Assert.Equal(
            ["ok", "source", "records", "first_sequence", "last_sequence", "head_hash", "checkpoints_verified", "last_checkpoint_sequence", "unsigned_tail", "key_ids", "failure"],
            json.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Export_and_public_key_let_an_auditor_verify_offline()
    {
        await SeedAsync();

        var export = await Cli("evidence", "export");
        var key = await Cli("evidence", "public-key");
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.True(key.ExitCode == 0, key.ToString());
        Assert.DoesNotContain("PRIVATE", key.Stdout, StringComparison.Ordinal);

        // The auditor's machine: a different directory, no .airlock, only the two files.
        using var auditor = new TempDir("airlock-auditor");
        var file = auditor.Write("evidence.ndjson", export.Stdout);
        var pem = auditor.Write("airlock.pub.pem", key.Stdout);
        var verify = await CliRunner.RunAsync(auditor.Path, NoEnvironment, "evidence", "verify", "--file", file, "--public-key", pem);

        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.StartsWith("OK: 7 records", verify.Stdout, StringComparison.Ordinal);
        Assert.All(export.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Matches("^\\{\"type\":\"(header|record|checkpoint)\"", line));
    }

    [Fact]
    public async Task Offline_verify_names_the_first_edited_record_and_exits_1()
    {
        await SeedAsync();
        var (file, pem) = await ExportAsync();
        var lines = File.ReadAllLines(file);
        var index = Array.FindIndex(lines, l => l.StartsWith("{\"type\":\"record\",\"sequence\":4,", StringComparison.Ordinal));
        lines[index] = lines[index].Replace("\"bob\"", "\"eve\"", StringComparison.Ordinal);
        File.WriteAllLines(file, lines);

        var result = await Cli("evidence", "verify", "--file", file, "--public-key", pem);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"FAILED at line {index + 1} (record 4): hash_mismatch", result.Stdout, StringComparison.Ordinal);
        Assert.Equal($"airlock: {file}:{index + 1}: line {index + 1} (record 4): hash_mismatch", result.Stderr.Split(": hash mismatch")[0].Trim());
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Offline_verify_json_reports_a_deleted_record()
    {
        await SeedAsync();
        var (file, pem) = await ExportAsync();
        var lines = File.ReadAllLines(file).ToList();
        var index = lines.FindIndex(l => l.StartsWith("{\"type\":\"record\",\"sequence\":2,", StringComparison.Ordinal));
        lines.RemoveAt(index);
        File.WriteAllLines(file, lines);

        var result = await Cli("evidence", "verify", "--file", file, "--public-key", pem, "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        var failure = JsonNode.Parse(result.Stdout)!["failure"]!;
        Assert.Equal("sequence_gap", (string?)failure["code"]);
        Assert.Equal(3, (long)failure["sequence"]!);
        Assert.Equal(lines.FindIndex(l => l.StartsWith("{\"type\":\"record\",\"sequence\":3,", StringComparison.Ordinal)) + 1, (long)failure["line"]!);
    }

    [Fact]
    public async Task Offline_verify_with_the_wrong_public_key_fails_with_unknown_key()
    {
        await SeedAsync();
        var (file, _) = await ExportAsync();
        using var other = EcdsaCheckpointSigner.Generate();
        var wrongPem = workspace.Write("other.pub.pem", other.ExportPublicKeyPem());

        var result = await Cli("evidence", "verify", "--file", file, "--public-key", wrongPem, "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("unknown_key", (string?)JsonNode.Parse(result.Stdout)!["failure"]!["code"]);
    }

    [Theory]
    [InlineData("missing-file")]
    [InlineData("missing-key")]
    [InlineData("bad-key")]
    [InlineData("no-key-option")]
    [InlineData("not-ndjson")]
    public async Task Unreadable_input_is_one_line_on_stderr_and_a_non_zero_exit(string problem)
    {
        await SeedAsync();
        var (file, pem) = await ExportAsync();
        string[] args = problem switch
        {
            "missing-file" => ["--file", workspace.File("nope.ndjson"), "--public-key", pem],
            "missing-key" => ["--file", file, "--public-key", workspace.File("nope.pem")],
            "bad-key" => ["--file", file, "--public-key", workspace.Write("bad.pem", "hello")],
            "no-key-option" => ["--file", file],
            _ => ["--file", workspace.Write("junk.ndjson", "this is not json\n"), "--public-key", pem],
        };

        var result = await Cli(["evidence", "verify", .. args]);

        Assert.True(result.ExitCode is 1 or 2, result.ToString());
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("airlock: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(problem == "not-ndjson" ? 1 : 2, result.ExitCode);
    }

    [Theory]
    [InlineData("edit one byte", "hash_mismatch", 4, "UPDATE evidence_records SET payload = replace(payload, '\"bob\"', '\"bcb\"') WHERE sequence = 4")]
    [InlineData("delete a record", "sequence_gap", 4, "DELETE FROM evidence_records WHERE sequence = 3")]
    [InlineData("swap two records", "hash_mismatch", 2, """
        UPDATE evidence_records SET
            kind = (SELECT o.kind FROM evidence_records o WHERE o.sequence = 5 - evidence_records.sequence),
            run_id = (SELECT o.run_id FROM evidence_records o WHERE o.sequence = 5 - evidence_records.sequence),
            recorded_at = (SELECT o.recorded_at FROM evidence_records o WHERE o.sequence = 5 - evidence_records.sequence),
            payload = (SELECT o.payload FROM evidence_records o WHERE o.sequence = 5 - evidence_records.sequence),
            previous_hash = (SELECT o.previous_hash FROM evidence_records o WHERE o.sequence = 5 - evidence_records.sequence),
            hash = (SELECT o.hash FROM evidence_records o WHERE o.sequence = 5 - evidence_records.sequence)
        WHERE sequence IN (2, 3)
        """)]
    [InlineData("delete the tail", "truncated", 6, "DELETE FROM evidence_records WHERE sequence > 5")]
    [InlineData("replace a checkpoint signature", "signature_invalid", 4, "UPDATE evidence_checkpoints SET signature = (SELECT signature FROM evidence_checkpoints WHERE sequence = 2) WHERE sequence = 4")]
    public async Task Verify_names_the_first_record_tampered_with_in_the_database(string tampering, string code, long sequence, string sql)
    {
        await SeedAsync();
        Assert.Equal(0, (await Cli("evidence", "verify")).ExitCode);

        var changed = await ExecuteSqlAsync(sql);

        var result = await Cli("evidence", "verify", "--json");
        var human = await Cli("evidence", "verify");
        Assert.True(changed > 0, tampering);
        Assert.True(result.ExitCode == 1, tampering + ": " + result);
        var failure = JsonNode.Parse(result.Stdout)!["failure"]!;
        Assert.Equal(code, (string?)failure["code"]);
        Assert.Equal(sequence, (long)failure["sequence"]!);
        Assert.Equal(1, human.ExitCode);
        Assert.StartsWith($"FAILED at record {sequence}: {code}: ", human.Stdout, StringComparison.Ordinal);
        Assert.StartsWith($"airlock: {Path.Combine(".airlock", "airlock.db")}: record {sequence}: {code}: ", human.Stderr, StringComparison.Ordinal);
        Assert.Single(human.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Verify_catches_a_forged_record_inserted_with_recomputed_hashes_by_the_signed_checkpoints()
    {
        await SeedAsync();
        var original = new List<ChainRecord>();
        await using (var store = await AirlockStores.OpenWorkspaceAsync(workspace.Path, new StoreOptions(), CancellationToken.None))
        {
            await foreach (var record in store.Evidence.ReadAsync(1, CancellationToken.None))
            {
                original.Add(record);
            }
        }

        // The forger slips a record in after record 3 and rebuilds every later record so the hash chain itself is whole again.
        var rebuilt = new List<ChainRecord>(original[..3]);
        rebuilt.Add(EvidenceChain.CreateNext(rebuilt[^1], EvidenceChain.RunEventKind, "r1", original[2].RecordedAt, "{\"note\":\"approved by mallory\"}"));
        foreach (var later in original[3..])
        {
            rebuilt.Add(EvidenceChain.CreateNext(rebuilt[^1], later.Kind, later.RunId, later.RecordedAt, later.Payload));
        }

        await using (var connection = await OpenDatabaseAsync())
        {
            await Sql(connection, "DELETE FROM evidence_records WHERE sequence > 3");
            foreach (var record in rebuilt[3..])
            {
                await Sql(connection, "INSERT INTO evidence_records (sequence, kind, run_id, recorded_at, payload, previous_hash, hash) VALUES (@s, @k, @r, @at, @p, @prev, @h)",
                    ("@s", record.Sequence), ("@k", record.Kind), ("@r", record.RunId), ("@at", record.RecordedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
                    ("@p", record.Payload), ("@prev", record.PreviousHash), ("@h", record.Hash));
            }

            await Sql(connection, "UPDATE evidence_head SET last_sequence = 8");
        }

        var result = await Cli("evidence", "verify", "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        var failure = JsonNode.Parse(result.Stdout)!["failure"]!;
        Assert.Equal("checkpoint_mismatch", (string?)failure["code"]);
        Assert.Equal(4, (long)failure["sequence"]!);
    }

    [Fact]
    public async Task A_workspace_without_a_store_has_nothing_to_verify_and_looking_creates_no_store()
    {
        var verify = await Cli("evidence", "verify");
        var verifyJson = await Cli("evidence", "verify", "--json");
        var list = await Cli("evidence", "list");
        var show = await Cli("evidence", "show", "r1");
        var export = await Cli("evidence", "export");

        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Equal($"no evidence store in this workspace ({Path.Combine(".airlock", "airlock.db")}): nothing recorded, nothing to verify", verify.Stdout.Trim());
        Assert.Equal(0, verifyJson.ExitCode);
        Assert.Equal(0, (long)JsonNode.Parse(verifyJson.Stdout)!["records"]!);
        Assert.Equal("no runs match", list.Stdout.Trim());
        Assert.Equal(1, show.ExitCode);
        Assert.Equal(1, export.ExitCode);
        Assert.Equal($"airlock: no evidence store in this workspace ({Path.Combine(".airlock", "airlock.db")}): nothing to export", export.Stderr.Trim());
        Assert.Equal("", export.Stdout);
        Assert.False(File.Exists(DatabasePath), "looking must not create a store");
        Assert.False(Directory.Exists(workspace.File(".airlock")), "looking must not create .airlock");
    }

    [Fact]
    public async Task Commands_use_the_postgres_store_given_by_database_or_the_environment()
    {
        var url = await Airlock.Store.Tests.PostgresServer.CreateDatabaseAsync();
        var planKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using (var store = await AirlockStores.OpenPostgresAsync(url, new StoreOptions { PlanKeyBase64 = planKey }, CancellationToken.None))
        {
            using var signer = new EvidenceKeyStore(workspace.File(".airlock/keys")).LoadOrCreateSigner();
            var log = new EvidenceLog(store.Evidence, signer, TimeProvider.System);
            await log.AppendRunEventAsync(new RunEvent("pg-1", "queued", "network", "prod", "alice", T0, new Dictionary<string, string>()), CancellationToken.None);
            await log.CheckpointHeadAsync(CancellationToken.None);
        }

        var verify = await Cli("evidence", "verify", "--database", url, "--json");
        var list = await CliRunner.RunAsync(workspace.Path, new Dictionary<string, string?> { [AirlockStores.DatabaseUrlVariable] = url }, "evidence", "list", "--json");

        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Equal(1, (long)JsonNode.Parse(verify.Stdout)!["records"]!);
        Assert.Equal("the PostgreSQL database", (string?)JsonNode.Parse(verify.Stdout)!["source"]);
        Assert.Equal(["pg-1"], RunIds(list));
        Assert.False(File.Exists(DatabasePath), "with a PostgreSQL store the workspace gets no SQLite file");
    }

    [Fact]
    public async Task An_unreachable_database_is_one_line_without_the_password()
    {
        var result = await Cli("evidence", "list", "--database", "Host=127.0.0.1;Port=1;Timeout=2;Username=nobody;Password=s3cret-pw");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("airlock: ", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("s3cret-pw", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_filters_runs_and_prints_json()
    {
        await SeedAsync();

        var all = await Cli("evidence", "list", "--json");
        var dns = await Cli("evidence", "list", "--stack", "dns", "--json");
        var failed = await Cli("evidence", "list", "--status", "failed", "--env", "prod", "--json");
        var human = await Cli("evidence", "list", "--actor", "alice");

        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(["r1", "r2", "r3"], RunIds(all));
        Assert.Equal(["r3"], RunIds(dns));
        Assert.Equal(["r3"], RunIds(failed));
        Assert.Equal("state_lock", (string?)JsonNode.Parse(failed.Stdout)![0]!["failure_class"]);
        Assert.StartsWith("RUN", human.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^r1\s+network\s+prod\s+alice\s+succeeded", human.Stdout);
        Assert.DoesNotContain("r2", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_since_filters_by_time()
    {
        await SeedAsync();

        var result = await Cli("evidence", "list", "--since", T0.AddHours(1.5).ToString("O"), "--json");
        var bad = await Cli("evidence", "list", "--since", "yesterday-ish");

        Assert.Equal(["r2", "r3"], RunIds(result));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--since", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_prints_every_record_of_a_run()
    {
        await SeedAsync();

        var json = await Cli("evidence", "show", "r1", "--json");
        var human = await Cli("evidence", "show", "r1");
        var missing = await Cli("evidence", "show", "nope");

        Assert.True(json.ExitCode == 0, json.ToString());
        var records = JsonNode.Parse(json.Stdout)!["records"]!.AsArray();
        Assert.Equal([1L, 2, 3], records.Select(r => (long)r!["sequence"]!));
        Assert.Equal("alice", (string?)records[2]!["payload"]!["authorisation"]!["requester"]);
        Assert.Contains("packet  attempt 1: succeeded", human.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("airlock: no evidence recorded for run nope", missing.Stderr.Trim());
    }

    [Fact]
    public async Task Failures_and_versions_answer_incident_questions()
    {
        await SeedAsync();

        var failures = await Cli("evidence", "failures", "--json");
        var versions = await Cli("evidence", "versions", "--app", "v2.0.0", "--json");

        Assert.True(failures.ExitCode == 0, failures.ToString());
        var classes = JsonNode.Parse(failures.Stdout)!.AsArray();
        Assert.Equal("state_lock", (string?)Assert.Single(classes)!["failure_class"]);
        var version = Assert.Single(JsonNode.Parse(versions.Stdout)!.AsArray())!;
        Assert.Equal("v1.3.0", (string?)version["infra_version"]);
        Assert.Equal("r1", (string?)version["run_id"]);
    }

    [Fact]
    public async Task Export_to_a_file_since_a_time_writes_a_verifiable_partial_export()
    {
        await SeedAsync();
        var target = workspace.File("since.ndjson");

        var result = await Cli("evidence", "export", "--since", T0.AddHours(1.5).ToString("O"), "--output", target);
        var bad = await Cli("evidence", "export", "--since", "soon", "--output", workspace.File("bad.ndjson"));
        var pem = workspace.Write("pub.pem", (await Cli("evidence", "public-key")).Stdout);
        var verify = await Cli("evidence", "verify", "--file", target, "--public-key", pem, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Equal(4, (long)JsonNode.Parse(verify.Stdout)!["first_sequence"]!);
        Assert.Equal(2, bad.ExitCode);
        Assert.False(File.Exists(workspace.File("bad.ndjson")));
        Assert.Empty(Directory.GetFiles(workspace.Path, "*.partial-*"));
    }

    [Fact]
    public async Task After_rotate_key_old_and_new_checkpoints_verify()
    {
        await SeedAsync();

        var rotate = await Cli("evidence", "rotate-key");
        await AppendPacketAsync("r4", "network", "prod", "succeeded", null, "alice", T0.AddHours(9));
        var (file, pem) = await ExportAsync();
        var verify = await Cli("evidence", "verify", "--file", file, "--public-key", pem, "--json");

        Assert.True(rotate.ExitCode == 0, rotate.ToString());
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Equal(2, JsonNode.Parse(verify.Stdout)!["key_ids"]!.AsArray().Count);
    }

    [Fact]
    public async Task Schema_command_prints_the_documented_schema()
    {
        var result = await Cli("evidence", "schema");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "docs", "evidence.schema.json")), result.Stdout);
    }

    private static List<string> RunIds(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. JsonNode.Parse(result.Stdout)!.AsArray().Select(r => (string)r!["run_id"]!)];
    }

    private Task<CliResult> Cli(params string[] args) => CliRunner.RunAsync(workspace.Path, NoEnvironment, args);

    private async Task<(string File, string Pem)> ExportAsync()
    {
        var export = await Cli("evidence", "export", "--output", workspace.File("export.ndjson"));
        Assert.True(export.ExitCode == 0, export.ToString());
        return (workspace.File("export.ndjson"), workspace.Write("airlock.pub.pem", (await Cli("evidence", "public-key")).Stdout));
    }

    /// <summary>
    /// Three runs in 7 records: r1 (network/prod, events + packet, tagged), r2 (network/staging, succeeded),
    /// r3 (dns/prod, failed with state_lock). Checkpoints every 2 records plus one per packet.
    /// </summary>
    private async Task SeedAsync()
    {
        await AppendEventAsync("r1", "queued", T0);
        await AppendEventAsync("r1", "approved", T0.AddMinutes(5), "bob");
        await AppendPacketAsync("r1", "network", "prod", "succeeded", null, "alice", T0.AddHours(1), "app:v2.0.0-infra:v1.3.0");
        await AppendEventAsync("r2", "queued", T0.AddHours(2), stack: "network", env: "staging", actor: "bob");
        await AppendPacketAsync("r2", "network", "staging", "succeeded", null, "bob", T0.AddHours(2.5));
        await AppendPacketAsync("r3", "dns", "prod", "failed", "state_lock", "carol", T0.AddHours(3));
        await AppendEventAsync("r3", "reconciled", T0.AddHours(3.5), "carol", "dns");
    }

    private async Task WithLogAsync(DateTimeOffset at, Func<EvidenceLog, Task> action)
    {
        using var signer = new EvidenceKeyStore(workspace.File(".airlock/keys")).LoadOrCreateSigner();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(at);
        await using var store = await AirlockStores.OpenWorkspaceAsync(workspace.Path, new StoreOptions { Time = clock }, CancellationToken.None);
        await action(new EvidenceLog(store.Evidence, signer, clock, new EvidenceLogOptions(CheckpointInterval: 2)));
    }

    // Straight to the SQLite file, behind the store's back: the threat is someone with database access.
    private async Task<SqliteConnection> OpenDatabaseAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        return connection;
    }

    private async Task<int> ExecuteSqlAsync(string sql)
    {
        await using var connection = await OpenDatabaseAsync();
        return await Sql(connection, sql);
    }

    private static async Task<int> Sql(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return await command.ExecuteNonQueryAsync();
    }

    private Task AppendEventAsync(string runId, string type, DateTimeOffset at, string? actor = "alice", string stack = "network", string env = "prod") =>
        WithLogAsync(at, log => log.AppendRunEventAsync(new RunEvent(runId, type, stack, env, actor, at, new Dictionary<string, string>()), CancellationToken.None));

    private Task AppendPacketAsync(string runId, string stack, string env, string status, string? failureClass, string requester, DateTimeOffset finished, params string[] tags) =>
        WithLogAsync(finished, log => log.AppendPacketAsync(
            new EvidencePacket(
                EvidencePacket.CurrentSchemaVersion,
                runId,
                1,
                new EvidenceSource("github.com/acme/infra", "0c1d2e3f", "main", 12),
                new EvidenceTarget(stack, env, "123456789012", "eu-west-1", "s3://state"),
                new EvidenceAuthorisation(requester, [new EvidenceApproval("bob", finished.AddMinutes(-10))], "v2", null),
                new EvidenceExecution("runner-1", "opentofu", "1.8.5", "deployer", new Dictionary<string, string> { ["sub"] = "ci" }),
                new EvidencePlan("apply", "sha256:" + new string('a', 64), new EvidenceResourceCounts(1, 0, 0, 0), []),
                new EvidencePolicy("sha256:" + new string('b', 64), "allow", []),
                new EvidenceStateSerials(5, 6),
                new EvidenceResult(status, failureClass, status, null, status == "failed" ? 1 : 0, finished.AddMinutes(-5), finished),
                [],
                [new EvidenceArtifact("plan", "sha256:" + new string('c', 64), 100)],
                tags),
            CancellationToken.None));
}
