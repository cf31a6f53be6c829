namespace Airlock.Domain.Evidence;

/// <summary>What is wrong with the first bad record or checkpoint.</summary>
public enum ChainFailureReason
{
    /// <summary>A line is not valid evidence NDJSON.</summary>
    Malformed,

    /// <summary>The record's hash does not match its content: the record was edited.</summary>
    HashMismatch,

    /// <summary>A sequence number is missing: a record was deleted.</summary>
    SequenceGap,

    /// <summary>Records appear out of sequence order: records were reordered.</summary>
    Reordered,

    /// <summary>A sequence number appears twice: a record was inserted.</summary>
    Inserted,

    /// <summary>The previous hash does not link to the record before: the chain was spliced.</summary>
    PreviousHashMismatch,

    /// <summary>A checkpoint's head hash or count does not match the chain: records up to it were rewritten.</summary>
    CheckpointMismatch,

    /// <summary>A checkpoint's signature does not verify under its key.</summary>
    SignatureInvalid,

    /// <summary>A checkpoint names a key that is not in the keyring.</summary>
    UnknownKey,

    /// <summary>A checkpoint covers more records than the chain holds: the tail was truncated.</summary>
    Truncated,

    /// <summary>Records after the last checkpoint are not covered by any signature (strict mode).</summary>
    NotSigned,

    /// <summary>A checkpoint appears after records beyond the one it covers.</summary>
    CheckpointOutOfOrder,

    /// <summary>There is nothing to verify.</summary>
    Empty,
}

/// <summary>The first problem found.</summary>
/// <param name="Reason">What kind of problem.</param>
/// <param name="Sequence">The sequence of the bad record (or of the record a bad checkpoint covers).</param>
/// <param name="Line">The 1-based line in an NDJSON file, when verifying a file.</param>
/// <param name="Message">A one-line human explanation.</param>
public sealed record ChainFailure(ChainFailureReason Reason, long? Sequence, long? Line, string Message)
{
    /// <summary>Stable snake_case code for --json output.</summary>
    public string Code => Reason switch
    {
        ChainFailureReason.HashMismatch => "hash_mismatch",
        ChainFailureReason.SequenceGap => "sequence_gap",
        ChainFailureReason.PreviousHashMismatch => "previous_hash_mismatch",
        ChainFailureReason.CheckpointMismatch => "checkpoint_mismatch",
        ChainFailureReason.SignatureInvalid => "signature_invalid",
        ChainFailureReason.UnknownKey => "unknown_key",
        ChainFailureReason.CheckpointOutOfOrder => "checkpoint_out_of_order",
        ChainFailureReason.NotSigned => "not_signed",
        _ => Reason.ToString().ToLowerInvariant(),
    };

    /// <summary>"line 12 (record 11)" or "record 11".</summary>
    public string Position => (Line, Sequence) switch
    {
        ({ } line, { } sequence) => $"line {line} (record {sequence})",
        ({ } line, null) => $"line {line}",
        (null, { } sequence) => $"record {sequence}",
        _ => "end of chain",
    };
}

/// <summary>The outcome of verifying a chain.</summary>
/// <param name="RecordCount">Records verified before stopping.</param>
/// <param name="FirstSequence">Sequence of the first record (1 unless a partial export).</param>
/// <param name="LastSequence">Sequence of the last good record.</param>
/// <param name="HeadHash">Hash of the last good record.</param>
/// <param name="CheckpointsVerified">Checkpoints whose signature and head verified.</param>
/// <param name="LastCheckpointSequence">Highest verified checkpoint sequence.</param>
/// <param name="UnsignedTail">Records after the last verified checkpoint.</param>
/// <param name="KeyIds">Keys that signed the verified checkpoints.</param>
/// <param name="Failure">The first problem, or null when everything verified.</param>
public sealed record ChainVerificationResult(
    long RecordCount,
    long FirstSequence,
    long LastSequence,
    string? HeadHash,
    int CheckpointsVerified,
    long LastCheckpointSequence,
    long UnsignedTail,
    IReadOnlyList<string> KeyIds,
    ChainFailure? Failure)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool Ok => Failure is null;
}

/// <summary>How strict a verification is.</summary>
/// <param name="RequireFullCoverage">Every record must be covered by a signed checkpoint (exports: yes; a live store: its newest records may not be signed yet).</param>
/// <param name="AllowPartial">The chain may start after sequence 1 (an export made with --since).</param>
/// <param name="RequireRecords">An empty chain is a failure.</param>
public sealed record ChainVerifierOptions(bool RequireFullCoverage, bool AllowPartial, bool RequireRecords)
{
    /// <summary>For an export an auditor received: everything must be signed.</summary>
    public static ChainVerifierOptions Export { get; } = new(RequireFullCoverage: true, AllowPartial: true, RequireRecords: true);

    /// <summary>For the live store: the newest records may not be checkpointed yet.</summary>
    public static ChainVerifierOptions Live { get; } = new(RequireFullCoverage: false, AllowPartial: false, RequireRecords: false);
}

/// <summary>
/// Streaming chain verifier: feed records (and checkpoints) in order, in constant memory, and it stops at the
/// FIRST bad record or checkpoint. Checkpoints may be fed before the records they cover (store order) or right
/// after them (file order).
/// </summary>
public sealed class ChainVerifier(EvidenceKeyring keyring, ChainVerifierOptions options)
{
    private readonly SortedDictionary<long, List<(SignedCheckpoint Checkpoint, long? Line)>> pending = [];
    private readonly HashSet<string> signingKeys = new(StringComparer.Ordinal);
    private long recordCount;
    private long firstSequence;
    private long lastSequence;
    private long? lastLine;
    private string? lastHash;
    private int checkpointsVerified;
    private long lastCheckpointSequence;
    private (long Expected, ChainRecord Found, long? Line)? gap;

    /// <summary>The first failure, once found; later input is ignored.</summary>
    public ChainFailure? Failure { get; private set; }

    /// <summary>Feeds the next record.</summary>
    public void AddRecord(ChainRecord record, long? line = null) => AddRecord(record, line, null);

    /// <summary>Feeds the next record whose hash was already computed (so callers can hash in parallel).</summary>
    internal void AddRecord(ChainRecord record, long? line, string? computedHash)
    {
        if (Failure is not null)
        {
            return;
        }

        if (gap is { } g)
        {
            // One record of look-ahead tells a deletion from a swap.
            Fail(record.Sequence == g.Expected
                ? new ChainFailure(ChainFailureReason.Reordered, g.Found.Sequence, g.Line, $"record {g.Found.Sequence} appears before record {g.Expected}: records were reordered")
                : new ChainFailure(ChainFailureReason.SequenceGap, g.Found.Sequence, g.Line, GapMessage(g.Expected, g.Found.Sequence)));
            return;
        }

        var expectedPrevious = lastHash;
        if (recordCount == 0)
        {
            if (record.Sequence < 1)
            {
                Fail(new ChainFailure(ChainFailureReason.Malformed, record.Sequence, line, $"sequence {record.Sequence} is not positive"));
                return;
            }

            if (record.Sequence == 1)
            {
                expectedPrevious = EvidenceChain.GenesisHash;
            }
            else if (!options.AllowPartial)
            {
                Fail(new ChainFailure(ChainFailureReason.SequenceGap, record.Sequence, line, GapMessage(1, record.Sequence)));
                return;
            }
            else
            {
                // A partial export is anchored on its first record's link; the checkpoints after it authenticate the rest.
                expectedPrevious = record.PreviousHash;
            }

            firstSequence = record.Sequence;
        }
        else
        {
            var expected = lastSequence + 1;
            if (record.Sequence > expected)
            {
                gap = (expected, record, line);
                return;
            }

            if (record.Sequence < expected)
            {
                Fail(record.Sequence == lastSequence
                    ? new ChainFailure(ChainFailureReason.Inserted, record.Sequence, line, $"sequence {record.Sequence} appears twice{(lastLine is { } l ? $" (also line {l})" : "")}: a record was inserted")
                    : new ChainFailure(ChainFailureReason.Reordered, record.Sequence, line, $"record {record.Sequence} appears after record {lastSequence}: records were reordered"));
                return;
            }
        }

        var computed = computedHash ?? EvidenceChain.ComputeHash(record);
        if (!string.Equals(computed, record.Hash, StringComparison.Ordinal))
        {
            Fail(new ChainFailure(ChainFailureReason.HashMismatch, record.Sequence, line, $"hash mismatch: the record was edited (stored {record.Hash}, content hashes to {computed})"));
            return;
        }

        if (!string.Equals(expectedPrevious, record.PreviousHash, StringComparison.Ordinal))
        {
            Fail(new ChainFailure(ChainFailureReason.PreviousHashMismatch, record.Sequence, line, $"previous_hash {record.PreviousHash} does not link to record {record.Sequence - 1} ({expectedPrevious}): a record before it was replaced, inserted or reordered"));
            return;
        }

        recordCount++;
        lastSequence = record.Sequence;
        lastHash = record.Hash;
        lastLine = line;

        while (pending.Count > 0)
        {
            var (sequence, checkpoints) = pending.First();
            if (sequence > lastSequence)
            {
                break;
            }

            pending.Remove(sequence);
            foreach (var (checkpoint, checkpointLine) in checkpoints)
            {
                if (sequence < lastSequence)
                {
                    Fail(new ChainFailure(ChainFailureReason.CheckpointMismatch, checkpoint.Sequence, checkpointLine, $"checkpoint covers record {checkpoint.Sequence}, which is not in the chain"));
                    return;
                }

                if (!VerifyCheckpoint(checkpoint, checkpointLine))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Feeds a checkpoint.</summary>
    public void AddCheckpoint(SignedCheckpoint checkpoint, long? line = null)
    {
        if (Failure is not null)
        {
            return;
        }

        if (gap is { } g)
        {
            Fail(new ChainFailure(ChainFailureReason.SequenceGap, g.Found.Sequence, g.Line, GapMessage(g.Expected, g.Found.Sequence)));
            return;
        }

        if (recordCount > 0 && checkpoint.Sequence == lastSequence)
        {
            VerifyCheckpoint(checkpoint, line);
        }
        else if (recordCount > 0 && checkpoint.Sequence < lastSequence)
        {
            Fail(new ChainFailure(ChainFailureReason.CheckpointOutOfOrder, checkpoint.Sequence, line, $"checkpoint for record {checkpoint.Sequence} appears after record {lastSequence}"));
        }
        else
        {
            if (!pending.TryGetValue(checkpoint.Sequence, out var list))
            {
                pending[checkpoint.Sequence] = list = [];
            }

            list.Add((checkpoint, line));
        }
    }

    /// <summary>Feeds one parsed NDJSON line.</summary>
    public void AddLine(EvidenceLine line)
    {
        switch (line)
        {
            case RecordLine r: AddRecord(r.Record, r.LineNumber); break;
            case CheckpointLine c: AddCheckpoint(c.Checkpoint, c.LineNumber); break;
            case HeaderLine: break;
            default: throw new ArgumentException("unknown line type", nameof(line));
        }
    }

    /// <summary>Records a line that could not be parsed as the failure (if none came earlier).</summary>
    public void AddMalformed(long line, string message)
    {
        if (Failure is null)
        {
            Fail(new ChainFailure(ChainFailureReason.Malformed, null, line, message));
        }
    }

    /// <summary>Finishes: checks what can only be checked at the end (truncation, unsigned tail).</summary>
    public ChainVerificationResult Complete()
    {
        if (Failure is null && gap is { } g)
        {
            Fail(new ChainFailure(ChainFailureReason.SequenceGap, g.Found.Sequence, g.Line, GapMessage(g.Expected, g.Found.Sequence)));
        }

        if (Failure is null && pending.Count > 0)
        {
            var (sequence, checkpoints) = pending.First();
            var (checkpoint, line) = checkpoints[0];
            Fail(new ChainFailure(ChainFailureReason.Truncated, sequence, line, $"checkpoint signed {checkpoint.RecordCount} records but the chain ends at record {lastSequence}: the tail was truncated"));
        }

        if (Failure is null && recordCount == 0 && options.RequireRecords)
        {
            Fail(new ChainFailure(ChainFailureReason.Empty, null, null, "no records to verify"));
        }

        if (Failure is null && options.RequireFullCoverage && recordCount > 0 && lastCheckpointSequence < lastSequence)
        {
            var first = Math.Max(lastCheckpointSequence + 1, firstSequence);
            Fail(new ChainFailure(ChainFailureReason.NotSigned, first, null, $"records {first}..{lastSequence} are not covered by any signed checkpoint"));
        }

        var unsigned = recordCount == 0 ? 0 : lastSequence - Math.Max(lastCheckpointSequence, firstSequence - 1);
        return new ChainVerificationResult(recordCount, firstSequence, lastSequence, lastHash, checkpointsVerified, lastCheckpointSequence, unsigned, [.. signingKeys.Order(StringComparer.Ordinal)], Failure);
    }

    private static string GapMessage(long expected, long found) =>
        found == expected + 1
            ? $"expected record {expected}, found {found}: record {expected} was deleted"
            : $"expected record {expected}, found {found}: records {expected}..{found - 1} were deleted";

    private bool VerifyCheckpoint(SignedCheckpoint checkpoint, long? line)
    {
        if (!keyring.Contains(checkpoint.KeyId))
        {
            return Fail(new ChainFailure(ChainFailureReason.UnknownKey, checkpoint.Sequence, line, $"checkpoint signed by unknown key {checkpoint.KeyId} (trusted: {string.Join(", ", keyring.KeyIds)})"));
        }

        if (!keyring.VerifySignature(checkpoint))
        {
            return Fail(new ChainFailure(ChainFailureReason.SignatureInvalid, checkpoint.Sequence, line, $"checkpoint signature does not verify under key {checkpoint.KeyId}"));
        }

        if (checkpoint.RecordCount != checkpoint.Sequence || !string.Equals(checkpoint.HeadHash, lastHash, StringComparison.Ordinal))
        {
            return Fail(new ChainFailure(ChainFailureReason.CheckpointMismatch, checkpoint.Sequence, line, $"checkpoint signed head {checkpoint.HeadHash} with {checkpoint.RecordCount} records, but record {lastSequence} has hash {lastHash}: records up to it were rewritten"));
        }

        checkpointsVerified++;
        lastCheckpointSequence = Math.Max(lastCheckpointSequence, checkpoint.Sequence);
        signingKeys.Add(checkpoint.KeyId);
        return true;
    }

    private bool Fail(ChainFailure failure)
    {
        Failure ??= failure;
        return false;
    }
}
