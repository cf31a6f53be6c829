using System.Buffers;
using System.Diagnostics;
using System.Globalization;

using Airlock.Domain.Evidence;
using Airlock.Store;
using Airlock.Store.Evidence;

using Microsoft.Data.Sqlite;

/// <summary>
/// `evidence [--records N]`: builds an N-record chain (default 1,000,000; run events and full packets alternating,
/// a signed checkpoint every 1,000 records) as an NDJSON export, then times offline verification of the file
/// and verification through the NDJSON store and the SQLite store (what `airlock evidence verify` reads). Prints records/s.
/// </summary>
internal static class EvidenceBench
{
    private static readonly string[] RecordParameters = ["$s", "$k", "$r", "$at", "$p", "$prev", "$h"];

    public static async Task<int> RunAsync(string[] args)
    {
        var records = args.Length == 2 && args[0] == "--records" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        var dir = Path.Combine(Path.GetTempPath(), "airlock-bench-evidence-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var signer = EcdsaCheckpointSigner.Generate();
            using var keyring = EvidenceKeyring.FromPem(signer.ExportPublicKeyPem());
            var exportPath = Path.Combine(dir, "export.ndjson");
            var storePath = Path.Combine(dir, "evidence.ndjson");

            var build = Stopwatch.StartNew();
            var checkpoints = await WriteChainAsync(signer, records, exportPath, storePath);
            build.Stop();
            var bytes = new FileInfo(exportPath).Length;
            Console.WriteLine($"evidence: built {records:N0} records + {checkpoints:N0} checkpoints ({bytes / 1048576.0:F0} MiB) in {build.Elapsed.TotalSeconds:F1} s ({records / build.Elapsed.TotalSeconds:N0} records/s hashed and written)");

            // One untimed pass first: tiered JIT promotes the hot loop to optimised code only after it has run a while.
            await using (var warm = new FileStream(exportPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            {
                await EvidenceExport.VerifyAsync(warm, keyring, ChainVerifierOptions.Export, CancellationToken.None);
            }

            foreach (var parallelism in new[] { 1, Environment.ProcessorCount })
            {
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var verify = Stopwatch.StartNew();
                ChainVerificationResult result;
                await using (var input = new FileStream(exportPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
                {
                    result = await EvidenceExport.VerifyAsync(input, keyring, ChainVerifierOptions.Export, parallelism, CancellationToken.None);
                }

                verify.Stop();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
                if (!result.Ok || result.RecordCount != records)
                {
                    Console.Error.WriteLine($"evidence: verification failed: {result.Failure?.Message}");
                    return 1;
                }

                Console.WriteLine($"evidence verify --file ({parallelism} thread(s)): {records:N0} records, {result.CheckpointsVerified:N0} checkpoints in {verify.Elapsed.TotalSeconds:F2} s = {records / verify.Elapsed.TotalSeconds:N0} records/s ({bytes / 1048576.0 / verify.Elapsed.TotalSeconds:F0} MiB/s); CPU {cpu.TotalSeconds:F2} s = {records / cpu.TotalSeconds:N0} records per CPU-second");
            }

            Console.WriteLine($"  machine: {Environment.ProcessorCount} cores, load average {LoadAverage()} (wall-clock figures shrink when other work shares the cores)");

            var store = new NdjsonEvidenceRecordStore(storePath);
            var storeVerify = Stopwatch.StartNew();
            var storeResult = await EvidenceExport.VerifyStoreAsync(store, keyring, ChainVerifierOptions.Live, CancellationToken.None);
            storeVerify.Stop();
            if (!storeResult.Ok)
            {
                Console.Error.WriteLine($"evidence: store verification failed: {storeResult.Failure?.Message}");
                return 1;
            }

            Console.WriteLine($"evidence verify (NDJSON store): {records:N0} records in {storeVerify.Elapsed.TotalSeconds:F2} s = {records / storeVerify.Elapsed.TotalSeconds:N0} records/s");

            var sqlitePath = Path.Combine(dir, "airlock.db");
            await using (var sqlite = await AirlockStores.OpenSqliteAsync(sqlitePath, new StoreOptions { PlanKeyFile = Path.Combine(dir, "plan.key") }, CancellationToken.None))
            {
                var load = Stopwatch.StartNew();
                await BulkLoadAsync(store, sqlite.Evidence, sqlitePath);
                load.Stop();
                Console.WriteLine($"evidence: loaded {records:N0} records into SQLite in {load.Elapsed.TotalSeconds:F1} s (one transaction; setup, not a product path)");
                var sqlVerify = Stopwatch.StartNew();
                var sqlResult = await EvidenceExport.VerifyStoreAsync(sqlite.Evidence, keyring, ChainVerifierOptions.Live, CancellationToken.None);
                sqlVerify.Stop();
                if (!sqlResult.Ok || sqlResult.RecordCount != records)
                {
                    Console.Error.WriteLine($"evidence: SQLite store verification failed: {sqlResult.Failure?.Message}");
                    return 1;
                }

                Console.WriteLine($"evidence verify (SQLite store, as the CLI): {records:N0} records in {sqlVerify.Elapsed.TotalSeconds:F2} s = {records / sqlVerify.Elapsed.TotalSeconds:N0} records/s");
            }

            var appends = Math.Min(2_000, records);
            var appendStore = new NdjsonEvidenceRecordStore(Path.Combine(dir, "appends.ndjson"));
            var payload = EvidenceJson.ToCanonicalPayload(new RunEvent("run-1", "apply_started", "network", "prod", "alice", DateTimeOffset.UnixEpoch, new Dictionary<string, string>()));
            var append = Stopwatch.StartNew();
            for (var i = 0; i < appends; i++)
            {
                await appendStore.AppendAsync(head => EvidenceChain.CreateNext(head, EvidenceChain.RunEventKind, "run-1", DateTimeOffset.UnixEpoch, payload), CancellationToken.None);
            }

            append.Stop();
            Console.WriteLine($"evidence append (NDJSON store, fsync each, locked): {appends:N0} appends in {append.Elapsed.TotalSeconds:F2} s = {appends / append.Elapsed.TotalSeconds:N0} appends/s");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Appending a million records one transaction each would measure the append path, not verification: load in one.
    private static async Task BulkLoadAsync(NdjsonEvidenceRecordStore source, IEvidenceRecordStore target, string databasePath)
    {
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO evidence_records (sequence, kind, run_id, recorded_at, payload, previous_hash, hash) VALUES ($s, $k, $r, $at, $p, $prev, $h)";
            var parameters = RecordParameters.Select(name => insert.Parameters.Add(name, name == "$s" ? SqliteType.Integer : SqliteType.Text)).ToArray();
            long last = 0;
            await foreach (var record in source.ReadAsync(1, CancellationToken.None))
            {
                parameters[0].Value = record.Sequence;
                parameters[1].Value = record.Kind;
                parameters[2].Value = (object?)record.RunId ?? DBNull.Value;
                parameters[3].Value = record.RecordedAt.ToString("O", CultureInfo.InvariantCulture);
                parameters[4].Value = record.Payload;
                parameters[5].Value = record.PreviousHash;
                parameters[6].Value = record.Hash;
                await insert.ExecuteNonQueryAsync();
                last = record.Sequence;
            }

            await using var head = connection.CreateCommand();
            head.Transaction = transaction;
            head.CommandText = "UPDATE evidence_head SET last_sequence = $s WHERE id = 1";
            head.Parameters.AddWithValue("$s", last);
            await head.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }

        await foreach (var checkpoint in source.ReadCheckpointsAsync(CancellationToken.None))
        {
            await target.AddCheckpointAsync(checkpoint, CancellationToken.None);
        }
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "n/a";

    private static async Task<int> WriteChainAsync(EcdsaCheckpointSigner signer, int count, string exportPath, string storePath)
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var eventTemplate = EvidenceJson.ToCanonicalPayload(new RunEvent("@RUN@", "apply_started", "network", "prod", "alice", t0, new Dictionary<string, string> { ["runner"] = "runner-7" }));
        var packetTemplate = EvidenceJson.ToCanonicalPayload(new EvidencePacket(
            EvidencePacket.CurrentSchemaVersion,
            "@RUN@",
            1,
            new EvidenceSource("github.com/acme/infra", "3f2c1a9e0b7d4c6f8a1e2d3c4b5a69788796a5b4", "main", 412),
            new EvidenceTarget("network", "prod", "123456789012", "eu-west-1", "s3://acme-state/network/prod.tfstate"),
            new EvidenceAuthorisation("alice", [new EvidenceApproval("bob", t0)], "approvals/v3", null),
            new EvidenceExecution("runner-7", "opentofu", "1.8.5", "aws-prod-deployer", new Dictionary<string, string> { ["sub"] = "repo:acme/infra:ref:refs/heads/main", ["aud"] = "sts.amazonaws.com" }),
            new EvidencePlan("apply", "sha256:" + new string('a', 64), new EvidenceResourceCounts(2, 1, 0, 0), ["iam_policy_change"]),
            new EvidencePolicy("sha256:" + new string('b', 64), "allow", [new EvidenceRuleResult("no-public-buckets", "pass", null), new EvidenceRuleResult("tags-required", "pass", null)]),
            new EvidenceStateSerials(41, 42),
            new EvidenceResult("succeeded", null, "applied 3 changes", null, 0, t0, t0.AddMinutes(3)),
            [new EvidenceVerification("drift_check", "pass", null)],
            [new EvidenceArtifact("plan", "sha256:" + new string('c', 64), 18_234), new EvidenceArtifact("redacted_log", "sha256:" + new string('d', 64), 4_096)],
            ["app:v1.4.2-infra:v0.9.0"]));

        var checkpoints = 0;
        await using var export = new FileStream(exportPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        await using var storeRecords = new FileStream(storePath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var storeCheckpoints = new ArrayBufferWriter<byte>();
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var storeBuffer = new ArrayBufferWriter<byte>(1 << 20);
        EvidenceNdjson.WriteHeader(buffer, 1, t0);
        ChainRecord? head = null;
        for (var i = 1; i <= count; i++)
        {
            var runId = "run-" + ((i + 1) / 2).ToString(CultureInfo.InvariantCulture);
            var isEvent = i % 2 == 1;
            head = EvidenceChain.CreateNext(head, isEvent ? EvidenceChain.RunEventKind : EvidenceChain.PacketKind, runId, t0.AddMilliseconds(i), (isEvent ? eventTemplate : packetTemplate).Replace("@RUN@", runId, StringComparison.Ordinal));
            EvidenceNdjson.WriteRecord(buffer, head);
            EvidenceNdjson.WriteRecord(storeBuffer, head);
            if (i % 1000 == 0 || i == count)
            {
                var checkpoint = Checkpoints.Sign(signer, head, t0.AddMilliseconds(i));
                EvidenceNdjson.WriteCheckpoint(buffer, checkpoint);
                EvidenceNdjson.WriteCheckpoint(storeCheckpoints, checkpoint);
                checkpoints++;
            }

            if (buffer.WrittenCount > 1 << 19)
            {
                await export.WriteAsync(buffer.WrittenMemory);
                await storeRecords.WriteAsync(storeBuffer.WrittenMemory);
                buffer.ResetWrittenCount();
                storeBuffer.ResetWrittenCount();
            }
        }

        await export.WriteAsync(buffer.WrittenMemory);
        await storeRecords.WriteAsync(storeBuffer.WrittenMemory);
        await File.WriteAllBytesAsync(new NdjsonEvidenceRecordStore(storePath).CheckpointsPath, storeCheckpoints.WrittenMemory.ToArray());
        return checkpoints;
    }
}
