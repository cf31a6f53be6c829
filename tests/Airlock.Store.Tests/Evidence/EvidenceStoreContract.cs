using System.Diagnostics;
using System.Globalization;

using Airlock.Domain.Evidence;
using Airlock.Store.Keys;
using Airlock.Store.Sql;
using Airlock.Testing;

namespace Airlock.Store.Tests.Evidence;

/// <summary>
/// The evidence log over each real backend: runs recorded through <see cref="EvidenceLog"/>, exported, verified
/// offline with only the public key; tampering done in the database itself; writers in several processes.
/// </summary>
public abstract class EvidenceStoreContract<TBackend> : IDisposable
    where TBackend : StoreBackend, new()
{
    private readonly TBackend backend = new();
    private readonly TempDir dir = new("airlock-evidence-sql");

    public void Dispose()
    {
        backend.Dispose();
        dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private string KeyDir => dir.File("keys");

    [Fact]
    public async Task Recorded_runs_export_and_verify_offline_with_only_the_public_key()
    {
        var (store, time, _) = await backend.FreshAsync();
        await using var _s = store;
        using var signer = new EvidenceKeyStore(KeyDir).LoadOrCreateSigner();
        await RecordRunsAsync(store, signer, time);

        var export = new MemoryStream();
        var exported = await new EvidenceLog(store.Evidence, signer, time).ExportAsync(export, null, CancellationToken.None);

        // The auditor: the export and the public key, nothing else.
        using var keyring = EvidenceKeyring.FromPem(signer.ExportPublicKeyPem());
        var offline = await EvidenceExport.VerifyAsync(new MemoryStream(export.ToArray()), keyring, ChainVerifierOptions.Export, CancellationToken.None);
        var live = await EvidenceExport.VerifyStoreAsync(store.Evidence, keyring, ChainVerifierOptions.Live, CancellationToken.None);

        Assert.Equal(9, exported);
        Assert.True(offline.Ok, offline.Failure?.Message);
        Assert.Equal(9, offline.RecordCount);
        Assert.Equal(9, offline.LastCheckpointSequence);
        Assert.Equal(0, offline.UnsignedTail);
        Assert.True(live.Ok, live.Failure?.Message);
        Assert.Equal(offline.HeadHash, live.HeadHash);

        // Checkpoints every 4 records (4, 8), at the end of each run (3, 6, 9); export found the head already signed.
        Assert.Equal(5, offline.CheckpointsVerified);
        using var wrongKey = EcdsaCheckpointSigner.Generate();
        using var wrongKeyring = EvidenceKeyring.FromPem(wrongKey.ExportPublicKeyPem());
        var wrong = await EvidenceExport.VerifyAsync(new MemoryStream(export.ToArray()), wrongKeyring, ChainVerifierOptions.Export, CancellationToken.None);
        Assert.Equal(ChainFailureReason.UnknownKey, wrong.Failure?.Reason);
    }

    [Fact]
    public async Task An_edit_in_the_database_is_found_in_the_store_and_in_its_export_at_the_edited_record()
    {
        var (store, time, _) = await backend.FreshAsync();
        await using var _s = store;
        using var signer = new EvidenceKeyStore(KeyDir).LoadOrCreateSigner();
        await RecordRunsAsync(store, signer, time);
        var payload = (string)(await ScalarAsync(store, "SELECT payload FROM evidence_records WHERE sequence = 6"))!;
        Assert.Contains("\"succeeded\"", payload, StringComparison.Ordinal);

        await ExecuteAsync(store, "UPDATE evidence_records SET payload = @p WHERE sequence = 6", ("@p", payload.Replace("\"succeeded\"", "\"succeedee\"", StringComparison.Ordinal)));

        using var keyring = EvidenceKeyring.FromPem(signer.ExportPublicKeyPem());
        var live = await EvidenceExport.VerifyStoreAsync(store.Evidence, keyring, ChainVerifierOptions.Live, CancellationToken.None);
        var export = new MemoryStream();
        await new EvidenceLog(store.Evidence, signer, time).ExportAsync(export, null, CancellationToken.None);
        var offline = await EvidenceExport.VerifyAsync(new MemoryStream(export.ToArray()), keyring, ChainVerifierOptions.Export, CancellationToken.None);

        Assert.Equal((ChainFailureReason.HashMismatch, 6L), (live.Failure?.Reason, live.Failure?.Sequence));
        Assert.Equal((ChainFailureReason.HashMismatch, 6L), (offline.Failure?.Reason, offline.Failure?.Sequence));
        Assert.Equal(5, live.RecordCount);
    }

    [Fact]
    public async Task Deleting_the_tail_in_the_database_is_caught_by_the_signed_checkpoints()
    {
        var (store, time, _) = await backend.FreshAsync();
        await using var _s = store;
        using var signer = new EvidenceKeyStore(KeyDir).LoadOrCreateSigner();
        await RecordRunsAsync(store, signer, time);

        await ExecuteAsync(store, "DELETE FROM evidence_records WHERE sequence > 6");
        await ExecuteAsync(store, "UPDATE evidence_head SET last_sequence = 6");

        using var keyring = EvidenceKeyring.FromPem(signer.ExportPublicKeyPem());
        var live = await EvidenceExport.VerifyStoreAsync(store.Evidence, keyring, ChainVerifierOptions.Live, CancellationToken.None);
        Assert.Equal((ChainFailureReason.Truncated, 8L), (live.Failure?.Reason, live.Failure?.Sequence));
    }

    [Fact]
    public async Task Evidence_log_appends_from_several_processes_form_one_verifiable_chain()
    {
        const int Writers = 3;
        const int PerWriter = 20;
        var target = await backend.NewTargetAsync();
        await (await backend.OpenAsync(target, TimeProvider.System)).DisposeAsync();

        // Created once up front: the processes share the installation's key, as runners on one installation do.
        using (new EvidenceKeyStore(KeyDir).LoadOrCreateSigner())
        {
        }

        var processes = Enumerable.Range(0, Writers).Select(i => StartWriter(target, $"w{i}", PerWriter)).ToList();
        foreach (var process in processes)
        {
            using (process)
            {
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
                Assert.True(process.ExitCode == 0, await stderr);
            }
        }

        await using var store = await backend.OpenAsync(target, TimeProvider.System);
        using var keyring = new EvidenceKeyStore(KeyDir).LoadKeyring();
        var result = await EvidenceExport.VerifyStoreAsync(store.Evidence, keyring, ChainVerifierOptions.Live, CancellationToken.None);

        Assert.True(result.Ok, result.Failure?.Message);
        Assert.Equal(Writers * PerWriter, result.RecordCount);

        // Every writer's packets each ended with a checkpoint, so the whole chain is signed.
        Assert.Equal(Writers * PerWriter, result.LastCheckpointSequence);
        var runIds = new HashSet<string>();
        await foreach (var record in store.Evidence.ReadAsync(1, CancellationToken.None))
        {
            runIds.Add(record.RunId!);
        }

        Assert.Equal(Writers * PerWriter / 2, runIds.Count);
    }

    /// <summary>Three runs, three records each (two events, then the packet); checkpoints every 4 records.</summary>
    private static async Task RecordRunsAsync(SqlAirlockStore store, ICheckpointSigner signer, Microsoft.Extensions.Time.Testing.FakeTimeProvider time)
    {
        var log = new EvidenceLog(store.Evidence, signer, time, new EvidenceLogOptions(CheckpointInterval: 4));
        foreach (var (runId, status) in new[] { ("r1", "succeeded"), ("r2", "succeeded"), ("r3", "failed") })
        {
            await log.AppendRunEventAsync(new RunEvent(runId, "queued", "network", "prod", "alice", time.GetUtcNow(), new Dictionary<string, string>()), CancellationToken.None);
            time.Advance(TimeSpan.FromMinutes(1));
            await log.AppendRunEventAsync(new RunEvent(runId, "approved", "network", "prod", "bob", time.GetUtcNow(), new Dictionary<string, string>()), CancellationToken.None);
            time.Advance(TimeSpan.FromMinutes(1));
            var now = time.GetUtcNow();
            await log.AppendPacketAsync(
                new EvidencePacket(
                    EvidencePacket.CurrentSchemaVersion,
                    runId,
                    1,
                    new EvidenceSource("github.com/acme/infra", "abc123", "main", 7),
                    new EvidenceTarget("network", "prod", "123456789012", "eu-west-1", "s3://state"),
                    new EvidenceAuthorisation("alice", [new EvidenceApproval("bob", now.AddMinutes(-1))], "v1", null),
                    new EvidenceExecution("runner-1", "opentofu", "1.8.5", null, new Dictionary<string, string>()),
                    null,
                    null,
                    new EvidenceStateSerials(1, 2),
                    new EvidenceResult(status, status == "failed" ? "state_lock" : null, status, null, status == "failed" ? 1 : 0, now.AddMinutes(-1), now),
                    [],
                    [],
                    []),
                CancellationToken.None);
            time.Advance(TimeSpan.FromMinutes(1));
        }
    }

    private Process StartWriter(string target, string name, int count)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Airlock.EvidenceWriter.dll"));
        foreach (var arg in new[] { backend.Name, target, KeyDir, name, count.ToString(CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi)!;
    }

    // Raw SQL on the store's own database: the threat is someone with database access.
    private static async Task ExecuteAsync(SqlAirlockStore store, string sql, params (string, object?)[] parameters)
    {
        await using var connection = await StoreInternals.OpenAsync(store);
        await using var command = StoreInternals.Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(SqlAirlockStore store, string sql)
    {
        await using var connection = await StoreInternals.OpenAsync(store);
        await using var command = StoreInternals.Command(connection, sql, []);
        return await command.ExecuteScalarAsync();
    }
}

/// <summary>The evidence contract on a fresh SQLite file per test.</summary>
public sealed class SqliteEvidenceStoreContract : EvidenceStoreContract<SqliteBackend>
{
}

/// <summary>The evidence contract on a fresh database per test on the real PostgreSQL server.</summary>
public sealed class PostgresEvidenceStoreContract : EvidenceStoreContract<PostgresBackend>
{
}
