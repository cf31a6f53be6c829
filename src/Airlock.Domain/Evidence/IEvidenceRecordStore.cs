namespace Airlock.Domain.Evidence;

/// <summary>
/// One record of the append-only evidence chain: a run event or an evidence packet.
/// <see cref="Hash"/> covers the canonical form of every other field including <see cref="PreviousHash"/>,
/// so an edit, deletion, insertion or reordering breaks the chain at a findable position.
/// </summary>
/// <param name="Sequence">1-based position in the chain; strictly increasing with no gaps.</param>
/// <param name="Kind">What the payload is, e.g. "run_event" or "evidence_packet".</param>
/// <param name="RunId">The run the record belongs to, when it belongs to one.</param>
/// <param name="RecordedAt">When the record was appended.</param>
/// <param name="Payload">The record's content as canonical JSON.</param>
/// <param name="PreviousHash">Hash of the previous record ("sha256:" + 64 zeros for the first).</param>
/// <param name="Hash">"sha256:" + hex of the canonical record.</param>
public sealed record ChainRecord(long Sequence, string Kind, string? RunId, DateTimeOffset RecordedAt, string Payload, string PreviousHash, string Hash);

/// <summary>A signature over the chain head, so truncating the tail is detected too.</summary>
/// <param name="Sequence">Sequence of the last record covered.</param>
/// <param name="RecordCount">How many records the chain held when signed.</param>
/// <param name="HeadHash">Hash of the record at <paramref name="Sequence"/>.</param>
/// <param name="KeyId">Identifies the signing key, so rotated keys keep old checkpoints verifiable.</param>
/// <param name="Algorithm">e.g. "ecdsa-p256-sha256".</param>
/// <param name="Signature">Base64 signature over the canonical checkpoint body.</param>
/// <param name="SignedAt">When it was signed.</param>
public sealed record SignedCheckpoint(long Sequence, long RecordCount, string HeadHash, string KeyId, string Algorithm, string Signature, DateTimeOffset SignedAt);

/// <summary>
/// Storage for the evidence chain, implemented by every store backend (SQLite, PostgreSQL).
/// Appends from several processes must still form one linear chain.
/// </summary>
public interface IEvidenceRecordStore
{
    /// <summary>
    /// Appends one record atomically: takes an exclusive cross-process lock on the chain head,
    /// reads the current head (null when empty), calls <paramref name="build"/> with it to compute
    /// the new record (sequence = head + 1, previous hash = head hash), inserts it, commits.
    /// </summary>
    Task<ChainRecord> AppendAsync(Func<ChainRecord?, ChainRecord> build, CancellationToken cancellationToken);

    /// <summary>Streams records in sequence order starting at <paramref name="fromSequence"/>.</summary>
    IAsyncEnumerable<ChainRecord> ReadAsync(long fromSequence, CancellationToken cancellationToken);

    /// <summary>Stores a signed checkpoint.</summary>
    Task AddCheckpointAsync(SignedCheckpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>Streams checkpoints in sequence order.</summary>
    IAsyncEnumerable<SignedCheckpoint> ReadCheckpointsAsync(CancellationToken cancellationToken);
}
