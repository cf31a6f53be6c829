using System.Buffers;
using System.Runtime.CompilerServices;

using Airlock.Domain.Evidence;

namespace Airlock.Store.Evidence;

/// <summary>
/// The evidence chain in NDJSON files: records in one file (the export line format), checkpoints in a sibling
/// "*.checkpoints.ndjson" (kept apart like a separate table, so cutting records off the end leaves the
/// checkpoints that reveal it). Appends from several processes are serialised by an exclusive lock on a
/// sibling "*.lock" file (flock on Unix via FileShare.None); readers never block writers.
/// </summary>
public sealed class NdjsonEvidenceRecordStore : IEvidenceRecordStore
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Uses <paramref name="recordsPath"/> (e.g. .airlock/evidence.ndjson) and its siblings.</summary>
    public NdjsonEvidenceRecordStore(string recordsPath)
    {
        RecordsPath = Path.GetFullPath(recordsPath);
        var stem = Path.Combine(Path.GetDirectoryName(RecordsPath)!, Path.GetFileNameWithoutExtension(RecordsPath));
        CheckpointsPath = stem + ".checkpoints.ndjson";
        LockPath = RecordsPath + ".lock";
    }

    /// <summary>The records file.</summary>
    public string RecordsPath { get; }

    /// <summary>The checkpoints file.</summary>
    public string CheckpointsPath { get; }

    /// <summary>The lock file writers hold exclusively while appending.</summary>
    public string LockPath { get; }

    /// <inheritdoc/>
    public async Task<ChainRecord> AppendAsync(Func<ChainRecord?, ChainRecord> build, CancellationToken cancellationToken)
    {
        using var writeLock = await AcquireLockAsync(cancellationToken);
        using var file = new FileStream(RecordsPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        var head = ReadHead(file);
        var record = build(head);
        var expectedSequence = (head?.Sequence ?? 0) + 1;
        var expectedPrevious = head?.Hash ?? EvidenceChain.GenesisHash;
        if (record.Sequence != expectedSequence || record.PreviousHash != expectedPrevious)
        {
            throw new InvalidOperationException($"record {record.Sequence} does not extend the head (expected sequence {expectedSequence} linked to {expectedPrevious})");
        }

        var buffer = new ArrayBufferWriter<byte>();
        EvidenceNdjson.WriteRecord(buffer, record);
        file.Seek(0, SeekOrigin.End);
        await file.WriteAsync(buffer.WrittenMemory, cancellationToken);

        // The record counts as appended only once it is on disk; otherwise a crash could lose an acknowledged record.
        file.Flush(flushToDisk: true);
        return record;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChainRecord> ReadAsync(long fromSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!File.Exists(RecordsPath))
        {
            yield break;
        }

        await using var file = OpenForReading(RecordsPath);
        await foreach (var line in EvidenceNdjson.ReadAsync(file, ignoreIncompleteLastLine: true, cancellationToken))
        {
            if (line is not RecordLine recordLine)
            {
                throw new EvidenceFormatException(line.LineNumber, $"{RecordsPath} holds a non-record line");
            }

            if (recordLine.Record.Sequence >= fromSequence)
            {
                yield return recordLine.Record;
            }
        }
    }

    /// <inheritdoc/>
    public async Task AddCheckpointAsync(SignedCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        using var writeLock = await AcquireLockAsync(cancellationToken);
        var buffer = new ArrayBufferWriter<byte>();
        EvidenceNdjson.WriteCheckpoint(buffer, checkpoint);
        using var file = new FileStream(CheckpointsPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        await file.WriteAsync(buffer.WrittenMemory, cancellationToken);
        file.Flush(flushToDisk: true);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<SignedCheckpoint> ReadCheckpointsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!File.Exists(CheckpointsPath))
        {
            yield break;
        }

        var checkpoints = new List<SignedCheckpoint>();
        await using (var file = OpenForReading(CheckpointsPath))
        {
            await foreach (var line in EvidenceNdjson.ReadAsync(file, ignoreIncompleteLastLine: true, cancellationToken))
            {
                checkpoints.Add(line is CheckpointLine c ? c.Checkpoint : throw new EvidenceFormatException(line.LineNumber, $"{CheckpointsPath} holds a non-checkpoint line"));
            }
        }

        // Concurrent writers may store checkpoints slightly out of order; the port promises sequence order.
        foreach (var checkpoint in checkpoints.OrderBy(c => c.Sequence))
        {
            yield return checkpoint;
        }
    }

    private static FileStream OpenForReading(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0, Options = FileOptions.SequentialScan });

    /// <summary>Reads the last record; drops a torn last line (a crashed append that was never acknowledged).</summary>
    private static ChainRecord? ReadHead(FileStream file)
    {
        var length = file.Length;
        if (length == 0)
        {
            return null;
        }

        var chunk = new byte[Math.Min(length, 64 * 1024)];
        var position = length;
        var lastNewline = -1L;
        var lineStart = -1L;
        while (position > 0 && lineStart < 0)
        {
            var size = (int)Math.Min(chunk.Length, position);
            position -= size;
            file.Seek(position, SeekOrigin.Begin);
            file.ReadExactly(chunk, 0, size);
            for (var i = size - 1; i >= 0; i--)
            {
                if (chunk[i] != (byte)'\n')
                {
                    continue;
                }

                if (lastNewline < 0)
                {
                    lastNewline = position + i;
                }
                else
                {
                    lineStart = position + i + 1;
                    break;
                }
            }
        }

        if (lastNewline < 0)
        {
            file.SetLength(0);
            return null;
        }

        if (lastNewline != length - 1)
        {
            file.SetLength(lastNewline + 1);
        }

        lineStart = Math.Max(lineStart, 0);
        var line = new byte[lastNewline - lineStart];
        file.Seek(lineStart, SeekOrigin.Begin);
        file.ReadExactly(line);
        return EvidenceNdjson.ParseLine(line, 0) is RecordLine r
            ? r.Record
            : throw new EvidenceFormatException(0, "the last line of the evidence log is not a record");
    }

    private async Task<FileStream> AcquireLockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(RecordsPath)!);
        var deadline = Environment.TickCount64 + (long)LockTimeout.TotalMilliseconds;
        while (true)
        {
            try
            {
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (ex.GetType() == typeof(IOException) && Environment.TickCount64 < deadline)
            {
                // Held by another writer (the sharing violation is a plain IOException; missing paths are subclasses
                // and fail at once): back off a little, with jitter so waiting writers do not retry in lockstep.
                await Task.Delay(TimeSpan.FromMilliseconds(1 + Random.Shared.Next(8)), cancellationToken);
            }
        }
    }
}
