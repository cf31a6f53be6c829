using System.Buffers;
using System.Text.Json.Nodes;

using Airlock.Domain.Serialization;

namespace Airlock.Domain.Evidence;

/// <summary>When checkpoints are signed besides the end of each run.</summary>
/// <param name="CheckpointInterval">Sign the head every this many records.</param>
public sealed record EvidenceLogOptions(int CheckpointInterval = 1000)
{
    /// <summary>The defaults.</summary>
    public static EvidenceLogOptions Default { get; } = new();
}

/// <summary>
/// The evidence log: appends run events and packets to the chain, signs checkpoints at intervals and at the
/// end of each run, verifies, and exports. Storage is whatever <see cref="IEvidenceRecordStore"/> it is given.
/// </summary>
public sealed class EvidenceLog(IEvidenceRecordStore store, ICheckpointSigner signer, TimeProvider time, EvidenceLogOptions? options = null)
{
    private readonly EvidenceLogOptions options = options ?? EvidenceLogOptions.Default;

    /// <summary>Appends a record with any payload (canonicalised here).</summary>
    public async Task<ChainRecord> AppendAsync(string kind, string? runId, JsonNode payload, CancellationToken cancellationToken) =>
        (await AppendCoreAsync(kind, runId, payload, cancellationToken)).Record;

    /// <summary>Appends a run event.</summary>
    public Task<ChainRecord> AppendRunEventAsync(RunEvent runEvent, CancellationToken cancellationToken) =>
        AppendAsync(EvidenceChain.RunEventKind, runEvent.RunId, System.Text.Json.JsonSerializer.SerializeToNode(runEvent, EvidenceJson.Options)!, cancellationToken);

    /// <summary>
    /// Appends a run event that stands on its own (an approval, a freeze, a token, a forced unlock…) and signs the head,
    /// so it is covered by a checkpoint at once rather than at the next packet.
    /// </summary>
    public async Task<ChainRecord> RecordEventAsync(RunEvent runEvent, CancellationToken cancellationToken)
    {
        var record = await AppendRunEventAsync(runEvent, cancellationToken);
        await CheckpointHeadAsync(cancellationToken);
        return record;
    }

    /// <summary>Appends the evidence packet that ends a run attempt, then signs a checkpoint over it.</summary>
    public async Task<(ChainRecord Record, SignedCheckpoint Checkpoint)> AppendPacketAsync(EvidencePacket packet, CancellationToken cancellationToken)
    {
        if (packet.SchemaVersion != EvidencePacket.CurrentSchemaVersion)
        {
            throw new ArgumentException($"packet schema version {packet.SchemaVersion} is not {EvidencePacket.CurrentSchemaVersion}", nameof(packet));
        }

        var (record, checkpoint) = await AppendCoreAsync(EvidenceChain.PacketKind, packet.RunId, System.Text.Json.JsonSerializer.SerializeToNode(packet, EvidenceJson.Options)!, cancellationToken);
        return (record, checkpoint ?? await CheckpointAsync(record, cancellationToken));
    }

    /// <summary>Signs a checkpoint over <paramref name="head"/> and stores it.</summary>
    public async Task<SignedCheckpoint> CheckpointAsync(ChainRecord head, CancellationToken cancellationToken)
    {
        var checkpoint = Checkpoints.Sign(signer, head, time.GetUtcNow());
        await store.AddCheckpointAsync(checkpoint, cancellationToken);
        return checkpoint;
    }

    /// <summary>Signs the current head unless the newest checkpoint already covers it; null for an empty chain.</summary>
    public async Task<SignedCheckpoint?> CheckpointHeadAsync(CancellationToken cancellationToken)
    {
        var last = await LastCheckpointAsync(store, cancellationToken);
        ChainRecord? head = null;
        await foreach (var record in store.ReadAsync(last?.Sequence ?? 1, cancellationToken))
        {
            head = record;
        }

        if (head is null)
        {
            return null;
        }

        return last is not null && last.Sequence == head.Sequence && last.KeyId == signer.KeyId ? last : await CheckpointAsync(head, cancellationToken);
    }

    /// <summary>
    /// Writes an export: header, then every record from the first one recorded at or after <paramref name="since"/>
    /// (all when null), each followed by the checkpoints over it. Signs the head first so the export ends signed.
    /// </summary>
    public async Task<long> ExportAsync(Stream output, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        await CheckpointHeadAsync(cancellationToken);
        return await EvidenceExport.WriteAsync(store, output, since, time.GetUtcNow(), cancellationToken);
    }

    private async Task<(ChainRecord Record, SignedCheckpoint? Checkpoint)> AppendCoreAsync(string kind, string? runId, JsonNode payload, CancellationToken cancellationToken)
    {
        var canonical = CanonicalJson.ToCanonicalString(payload);

        // The clock is read inside the store's lock, so recorded_at never goes backwards along the chain.
        var record = await store.AppendAsync(head => EvidenceChain.CreateNext(head, kind, runId, time.GetUtcNow(), canonical), cancellationToken);
        var checkpoint = record.Sequence % options.CheckpointInterval == 0 ? await CheckpointAsync(record, cancellationToken) : null;
        return (record, checkpoint);
    }

    /// <summary>The newest checkpoint by sequence.</summary>
    public static async Task<SignedCheckpoint?> LastCheckpointAsync(IEvidenceRecordStore store, CancellationToken cancellationToken)
    {
        SignedCheckpoint? last = null;
        await foreach (var checkpoint in store.ReadCheckpointsAsync(cancellationToken))
        {
            if (last is null || checkpoint.Sequence >= last.Sequence)
            {
                last = checkpoint;
            }
        }

        return last;
    }
}

/// <summary>Writes and verifies evidence NDJSON exports, and verifies a store in place.</summary>
public static class EvidenceExport
{
    private const int BatchSize = 4096;

    /// <summary>Writes the export without signing anything (see <see cref="EvidenceLog.ExportAsync"/>). Returns the number of records written.</summary>
    public static async Task<long> WriteAsync(IEvidenceRecordStore store, Stream output, DateTimeOffset? since, DateTimeOffset exportedAt, CancellationToken cancellationToken)
    {
        var checkpoints = new Queue<SignedCheckpoint>();
        var all = new List<SignedCheckpoint>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(cancellationToken))
        {
            all.Add(checkpoint);
        }

        foreach (var checkpoint in all.OrderBy(c => c.Sequence))
        {
            checkpoints.Enqueue(checkpoint);
        }

        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        long written = 0;
        await foreach (var record in store.ReadAsync(1, cancellationToken))
        {
            if (written == 0 && since is { } s && record.RecordedAt < s)
            {
                while (checkpoints.Count > 0 && checkpoints.Peek().Sequence <= record.Sequence)
                {
                    checkpoints.Dequeue();
                }

                continue;
            }

            if (written == 0)
            {
                EvidenceNdjson.WriteHeader(buffer, record.Sequence, exportedAt);
            }

            EvidenceNdjson.WriteRecord(buffer, record);
            written++;
            while (checkpoints.Count > 0 && checkpoints.Peek().Sequence <= record.Sequence)
            {
                EvidenceNdjson.WriteCheckpoint(buffer, checkpoints.Dequeue());
            }

            if (buffer.WrittenCount > 1 << 15)
            {
                await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
                buffer.ResetWrittenCount();
            }
        }

        if (written == 0)
        {
            EvidenceNdjson.WriteHeader(buffer, 1, exportedAt);
        }

        // Checkpoints over records the chain no longer has stay in the export, so truncation is visible offline too.
        while (checkpoints.Count > 0)
        {
            EvidenceNdjson.WriteCheckpoint(buffer, checkpoints.Dequeue());
        }

        await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
        await output.FlushAsync(cancellationToken);
        return written;
    }

    /// <summary>
    /// Verifies an NDJSON export from <paramref name="input"/> with only the public keys. Lines are parsed and hashed
    /// in parallel batches (each record's hash depends only on its own line); linking and checkpoints stay sequential.
    /// </summary>
    public static Task<ChainVerificationResult> VerifyAsync(Stream input, EvidenceKeyring keyring, ChainVerifierOptions options, CancellationToken cancellationToken) =>
        VerifyAsync(input, keyring, options, Environment.ProcessorCount, cancellationToken);

    /// <summary>As <see cref="VerifyAsync(Stream, EvidenceKeyring, ChainVerifierOptions, CancellationToken)"/> with <paramref name="parallelism"/> worker threads (1 = sequential).</summary>
    public static async Task<ChainVerificationResult> VerifyAsync(Stream input, EvidenceKeyring keyring, ChainVerifierOptions options, int parallelism, CancellationToken cancellationToken)
    {
        var verifier = new ChainVerifier(keyring, options);
        var parsed = new EvidenceLine?[BatchSize];
        var hashes = new string?[BatchSize];
        var errors = new EvidenceFormatException?[BatchSize];
        await foreach (var batch in EvidenceNdjson.ReadBatchesAsync(input, ignoreIncompleteLastLine: false, BatchSize, cancellationToken))
        {
            Parallel.For(0, batch.Count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = parallelism }, i =>
            {
                try
                {
                    parsed[i] = batch.ParseForVerification(i, out var computed);
                    hashes[i] = computed;
                    errors[i] = null;
                }
                catch (EvidenceFormatException ex)
                {
                    parsed[i] = null;
                    errors[i] = ex;
                }
            });

            for (var i = 0; i < batch.Count && verifier.Failure is null; i++)
            {
                if (errors[i] is { } error)
                {
                    verifier.AddMalformed(error.LineNumber, error.Message);
                }
                else if (parsed[i] is RecordLine record)
                {
                    verifier.AddRecord(record.Record, record.LineNumber, hashes[i]);
                }
                else
                {
                    verifier.AddLine(parsed[i]!);
                }
            }

            if (verifier.Failure is not null)
            {
                break;
            }
        }

        return verifier.Complete();
    }

    /// <summary>Verifies the chain and checkpoints held by a store.</summary>
    public static async Task<ChainVerificationResult> VerifyStoreAsync(IEvidenceRecordStore store, EvidenceKeyring keyring, ChainVerifierOptions options, CancellationToken cancellationToken)
    {
        var verifier = new ChainVerifier(keyring, options);
        try
        {
            await foreach (var checkpoint in store.ReadCheckpointsAsync(cancellationToken))
            {
                verifier.AddCheckpoint(checkpoint);
            }

            await foreach (var record in store.ReadAsync(1, cancellationToken))
            {
                verifier.AddRecord(record);
                if (verifier.Failure is not null)
                {
                    break;
                }
            }
        }
        catch (EvidenceFormatException ex)
        {
            // A store backed by a file can hold a damaged line; that is a finding, not a crash.
            verifier.AddMalformed(ex.LineNumber, ex.Message);
        }

        return verifier.Complete();
    }
}
