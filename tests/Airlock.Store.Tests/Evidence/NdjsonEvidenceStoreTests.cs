using System.Diagnostics;

using Airlock.Domain.Evidence;
using Airlock.Store.Evidence;
using Airlock.Store.Keys;
using Airlock.Testing;

using Microsoft.Extensions.Time.Testing;

namespace Airlock.Store.Tests.Evidence;

/// <summary>The evidence log over the real NDJSON file store and real key files.</summary>
public sealed class NdjsonEvidenceStoreTests : IDisposable
{
    private readonly TempDir dir = new("airlock-evidence");
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => dir.Dispose();

    private NdjsonEvidenceRecordStore Store() => new(dir.File(".airlock/evidence.ndjson"));

    private EvidenceKeyStore Keys() => new(dir.File(".airlock/keys"));

    [Fact]
    public async Task Appended_records_read_back_in_order_and_verify()
    {
        using var signer = Keys().LoadOrCreateSigner();
        var log = new EvidenceLog(Store(), signer, time, new EvidenceLogOptions(CheckpointInterval: 3));

        for (var i = 0; i < 4; i++)
        {
            await log.AppendRunEventAsync(Event($"r{i}", "queued"), CancellationToken.None);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var (packetRecord, endOfRun) = await log.AppendPacketAsync(Packet("r3"), CancellationToken.None);

        var records = await ReadAll(Store());
        var checkpoints = await ReadCheckpoints(Store());
        Assert.Equal([1L, 2, 3, 4, 5], records.Select(r => r.Sequence));
        Assert.Equal(packetRecord, records[^1]);
        Assert.Equal(EvidenceChain.GenesisHash, records[0].PreviousHash);
        Assert.All(records.Skip(1), (r, i) => Assert.Equal(records[i].Hash, r.PreviousHash));

        // One checkpoint at the interval (record 3) and one at the end of the run (record 5).
        Assert.Equal([3L, 5L], checkpoints.Select(c => c.Sequence));
        Assert.Equal(endOfRun, checkpoints[^1]);

        using var keyring = Keys().LoadKeyring();
        var result = await EvidenceExport.VerifyStoreAsync(Store(), keyring, ChainVerifierOptions.Live, CancellationToken.None);
        Assert.True(result.Ok, result.Failure?.Message);
        Assert.Equal(5, result.RecordCount);
        Assert.Equal(2, result.CheckpointsVerified);
    }

    [Fact]
    public async Task Export_then_offline_verify_with_only_the_public_key_round_trips()
    {
        using (var signer = Keys().LoadOrCreateSigner())
        {
            var log = new EvidenceLog(Store(), signer, time);
            await log.AppendRunEventAsync(Event("r1", "queued"), CancellationToken.None);
            await log.AppendPacketAsync(Packet("r1"), CancellationToken.None);
            await log.AppendRunEventAsync(Event("r2", "queued"), CancellationToken.None);

            await using var file = File.Create(dir.File("export.ndjson"));
            Assert.Equal(3, await log.ExportAsync(file, null, CancellationToken.None));
        }

        // The auditor has only the exported file and the public key PEM.
        var publicPem = File.ReadAllText(Keys().KeyringPath);
        Assert.DoesNotContain("PRIVATE", publicPem, StringComparison.Ordinal);
        using var keyring = EvidenceKeyring.FromPem(publicPem);
        await using var input = File.OpenRead(dir.File("export.ndjson"));
        var result = await EvidenceExport.VerifyAsync(input, keyring, ChainVerifierOptions.Export, CancellationToken.None);

        Assert.True(result.Ok, result.Failure?.Message);
        Assert.Equal(3, result.RecordCount);

        // Export signed the head first, so the third record (a bare event) is covered too.
        Assert.Equal(3, result.LastCheckpointSequence);
    }

    [Fact]
    public async Task Export_since_starts_at_the_first_record_at_or_after_that_time_and_still_verifies()
    {
        using var signer = Keys().LoadOrCreateSigner();
        var log = new EvidenceLog(Store(), signer, time);
        for (var i = 0; i < 5; i++)
        {
            await log.AppendPacketAsync(Packet($"r{i}"), CancellationToken.None);
            time.Advance(TimeSpan.FromHours(1));
        }

        using var output = new MemoryStream();
        var written = await log.ExportAsync(output, time.GetUtcNow().AddHours(-2.5), CancellationToken.None);
        output.Position = 0;
        using var keyring = Keys().LoadKeyring();
        var result = await EvidenceExport.VerifyAsync(output, keyring, ChainVerifierOptions.Export, CancellationToken.None);

        Assert.Equal(2, written);
        Assert.True(result.Ok, result.Failure?.Message);
        Assert.Equal(4, result.FirstSequence);
    }

    [Fact]
    public async Task Truncating_the_records_file_is_detected_by_the_stored_checkpoints()
    {
        using var signer = Keys().LoadOrCreateSigner();
        var log = new EvidenceLog(Store(), signer, time);
        for (var i = 0; i < 3; i++)
        {
            await log.AppendPacketAsync(Packet($"r{i}"), CancellationToken.None);
        }

        var lines = File.ReadAllLines(Store().RecordsPath);
        File.WriteAllLines(Store().RecordsPath, lines[..2]);

        using var keyring = Keys().LoadKeyring();
        var result = await EvidenceExport.VerifyStoreAsync(Store(), keyring, ChainVerifierOptions.Live, CancellationToken.None);

        Assert.Equal(ChainFailureReason.Truncated, result.Failure?.Reason);
        Assert.Equal(3, result.Failure!.Sequence);
    }

    [Fact]
    public async Task A_torn_last_line_from_a_crashed_append_is_dropped_and_the_chain_continues()
    {
        using var signer = Keys().LoadOrCreateSigner();
        var log = new EvidenceLog(Store(), signer, time, new EvidenceLogOptions(CheckpointInterval: 100));
        await log.AppendRunEventAsync(Event("r1", "queued"), CancellationToken.None);
        await File.AppendAllTextAsync(Store().RecordsPath, "{\"type\":\"record\",\"sequence\":2,\"ki");

        Assert.Single(await ReadAll(Store()));
        var next = await log.AppendRunEventAsync(Event("r1", "apply_started"), CancellationToken.None);

        Assert.Equal(2, next.Sequence);
        Assert.Equal(2, (await ReadAll(Store())).Count);
        using var keyring = Keys().LoadKeyring();
        Assert.True((await EvidenceExport.VerifyStoreAsync(Store(), keyring, ChainVerifierOptions.Live, CancellationToken.None)).Ok);
    }

    [Fact]
    public async Task A_build_function_that_does_not_extend_the_head_is_refused_and_nothing_is_written()
    {
        var store = Store();
        await store.AppendAsync(head => EvidenceChain.CreateNext(head, "note", null, time.GetUtcNow(), "{}"), CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.AppendAsync(_ => EvidenceChain.CreateNext(null, "note", null, time.GetUtcNow(), "{}"), CancellationToken.None));

        Assert.Single(await ReadAll(store));
    }

    [Fact]
    public async Task Concurrent_appends_from_several_processes_form_one_valid_chain()
    {
        const int Writers = 4;
        const int PerWriter = 40;
        var records = Store().RecordsPath;
        var keyDir = dir.File(".airlock/keys");

        // All writers start at once and race for the first-use key creation too.
        var processes = Enumerable.Range(0, Writers).Select(i => StartWriter(records, keyDir, $"w{i}", PerWriter)).ToList();
        foreach (var process in processes)
        {
            using (process)
            {
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
                Assert.True(process.ExitCode == 0, await stderr);
            }
        }

        var all = await ReadAll(Store());
        Assert.Equal(Writers * PerWriter, all.Count);
        Assert.Equal(Enumerable.Range(1, Writers * PerWriter).Select(i => (long)i), all.Select(r => r.Sequence));
        Assert.All(Enumerable.Range(0, Writers), w => Assert.Equal(PerWriter, all.Count(r => r.RunId!.StartsWith($"w{w}-", StringComparison.Ordinal))));

        // Writers interleaved (the test really exercised contention), and every record appears once.
        Assert.True(all.Zip(all.Skip(1)).Count(p => p.First.RunId![..2] != p.Second.RunId![..2]) > Writers);
        Assert.Equal(all.Count, all.Select(r => r.Hash).Distinct().Count());

        using var keyring = Keys().LoadKeyring();
        Assert.Single(keyring.KeyIds);
        var result = await EvidenceExport.VerifyStoreAsync(Store(), keyring, ChainVerifierOptions.Live, CancellationToken.None);
        Assert.True(result.Ok, result.Failure?.Message);
        Assert.True(result.CheckpointsVerified >= Writers * PerWriter / 2, $"{result.CheckpointsVerified} checkpoints");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Signing_key_is_created_on_first_use_owner_only_and_reused()
    {
        string firstId;
        using (var first = Keys().LoadOrCreateSigner())
        {
            firstId = first.KeyId;
        }

        using var second = Keys().LoadOrCreateSigner();

        Assert.Equal(firstId, second.KeyId);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Keys().PrivateKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.File(".airlock/keys")));
        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(Keys().PrivateKeyPath), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.File(".airlock/keys"), "*.tmp"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_private_key_readable_by_others_is_refused()
    {
        using (Keys().LoadOrCreateSigner())
        {
        }

        File.SetUnixFileMode(Keys().PrivateKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var ex = Assert.Throws<UnauthorizedAccessException>(() => Keys().LoadOrCreateSigner());
        Assert.Contains("chmod 600", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_key_rotation_old_and_new_checkpoints_both_verify_from_the_keyring()
    {
        string oldId;
        using (var old = Keys().LoadOrCreateSigner())
        {
            oldId = old.KeyId;
            await new EvidenceLog(Store(), old, time).AppendPacketAsync(Packet("r1"), CancellationToken.None);
        }

        using (var rotated = Keys().Rotate())
        {
            Assert.NotEqual(oldId, rotated.KeyId);
            await new EvidenceLog(Store(), rotated, time).AppendPacketAsync(Packet("r2"), CancellationToken.None);
        }

        using var current = Keys().LoadOrCreateSigner();
        using var keyring = Keys().LoadKeyring();
        var result = await EvidenceExport.VerifyStoreAsync(Store(), keyring, ChainVerifierOptions.Live, CancellationToken.None);

        Assert.True(result.Ok, result.Failure?.Message);
        Assert.Equal(2, result.KeyIds.Count);
        Assert.Contains(oldId, result.KeyIds);
        Assert.Contains(current.KeyId, result.KeyIds);
    }

    private static Process StartWriter(string records, string keyDir, string name, int count)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Airlock.EvidenceWriter.dll"));
        foreach (var arg in new[] { records, keyDir, name, count.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi)!;
    }

    private static async Task<List<ChainRecord>> ReadAll(NdjsonEvidenceRecordStore store)
    {
        var list = new List<ChainRecord>();
        await foreach (var record in store.ReadAsync(1, CancellationToken.None))
        {
            list.Add(record);
        }

        return list;
    }

    private static async Task<List<SignedCheckpoint>> ReadCheckpoints(NdjsonEvidenceRecordStore store)
    {
        var list = new List<SignedCheckpoint>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(CancellationToken.None))
        {
            list.Add(checkpoint);
        }

        return list;
    }

    private RunEvent Event(string runId, string type) => new(runId, type, "network", "prod", "alice", time.GetUtcNow(), new Dictionary<string, string>());

    private EvidencePacket Packet(string runId) => new(
        EvidencePacket.CurrentSchemaVersion,
        runId,
        1,
        new EvidenceSource("github.com/acme/infra", "abc123", "main", 7),
        new EvidenceTarget("network", "prod", null, "eu-west-1", null),
        new EvidenceAuthorisation("alice", [new EvidenceApproval("bob", time.GetUtcNow())], "v1", null),
        new EvidenceExecution("runner-1", "opentofu", "1.8.5", null, new Dictionary<string, string>()),
        null,
        null,
        new EvidenceStateSerials(1, 2),
        new EvidenceResult("succeeded", null, "ok", null, 0, time.GetUtcNow(), time.GetUtcNow()),
        [],
        [],
        []);
}
