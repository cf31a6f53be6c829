using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;

using Airlock.Domain.Evidence;

namespace Airlock.Store.Sql;

/// <summary>
/// The evidence chain on both backends. Appends lock the single <c>evidence_head</c> row (SQLite: the
/// BEGIN IMMEDIATE write lock), so writers in any number of processes extend one linear chain; the primary key
/// on sequence is the last line of defence.
/// </summary>
internal sealed class SqlEvidenceRecordStore(SqlContext context) : IEvidenceRecordStore
{
    private const string Columns = "sequence, kind, run_id, recorded_at, payload, previous_hash, hash";
    private const string GenesisHash = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    public async Task<ChainRecord> AppendAsync(Func<ChainRecord?, ChainRecord> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(build);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var headSequence = Convert.ToInt64(await connection.ScalarAsync(transaction, "SELECT last_sequence FROM evidence_head WHERE id = 1" + context.Dialect.ForUpdate, cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        ChainRecord? head = null;
        if (headSequence > 0)
        {
            head = (await connection.QueryAsync(transaction, $"SELECT {Columns} FROM evidence_records WHERE sequence = @s", Read, cancellationToken, ("@s", headSequence)).ConfigureAwait(false)).Single();
        }

        var record = build(head);
        if (record.Sequence != headSequence + 1 || record.PreviousHash != (head?.Hash ?? GenesisHash))
        {
            throw new InvalidOperationException($"evidence record {record.Sequence} does not extend the chain head {headSequence} (expected sequence {headSequence + 1} and the head's hash as previous hash)");
        }

        await connection.ExecuteAsync(transaction, $"INSERT INTO evidence_records ({Columns}) VALUES (@s, @kind, @run, @at, @payload, @prev, @hash)", cancellationToken,
            ("@s", record.Sequence), ("@kind", record.Kind), ("@run", record.RunId), ("@at", record.RecordedAt.ToString("O", CultureInfo.InvariantCulture)),
            ("@payload", record.Payload), ("@prev", record.PreviousHash), ("@hash", record.Hash)).ConfigureAwait(false);
        await connection.ExecuteAsync(transaction, "UPDATE evidence_head SET last_sequence = @s WHERE id = 1", cancellationToken, ("@s", record.Sequence)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return record;
    }

    public async IAsyncEnumerable<ChainRecord> ReadAsync(long fromSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Paged so a chain of millions of records streams in constant memory.
        const int page = 1000;
        var next = fromSequence;
        while (true)
        {
            List<ChainRecord> rows;
            await using (var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false))
            {
                rows = await connection.QueryAsync(null, $"SELECT {Columns} FROM evidence_records WHERE sequence >= @s ORDER BY sequence LIMIT {page}", Read, cancellationToken, ("@s", next)).ConfigureAwait(false);
            }

            foreach (var row in rows)
            {
                yield return row;
            }

            if (rows.Count < page)
            {
                yield break;
            }

            next = rows[^1].Sequence + 1;
        }
    }

    // Replicas sharing one key may sign the same head at once (each after its own apply): one checkpoint per
    // (sequence, key) is enough, so the second is a no-op rather than a failure after the run already ended.
    public async Task AddCheckpointAsync(SignedCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(null,
            "INSERT INTO evidence_checkpoints (sequence, record_count, head_hash, key_id, algorithm, signature, signed_at) VALUES (@s, @n, @h, @k, @a, @sig, @at) ON CONFLICT (sequence, key_id) DO NOTHING", cancellationToken,
            ("@s", checkpoint.Sequence), ("@n", checkpoint.RecordCount), ("@h", checkpoint.HeadHash), ("@k", checkpoint.KeyId), ("@a", checkpoint.Algorithm),
            ("@sig", checkpoint.Signature), ("@at", checkpoint.SignedAt.ToString("O", CultureInfo.InvariantCulture))).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<SignedCheckpoint> ReadCheckpointsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<SignedCheckpoint> rows;
        await using (var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            rows = await connection.QueryAsync(null, "SELECT sequence, record_count, head_hash, key_id, algorithm, signature, signed_at FROM evidence_checkpoints ORDER BY sequence, key_id",
                r => new SignedCheckpoint(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), DateTimeOffset.Parse(r.GetString(6), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)),
                cancellationToken).ConfigureAwait(false);
        }

        foreach (var row in rows)
        {
            yield return row;
        }
    }

    private static ChainRecord Read(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.NullableString(2), DateTimeOffset.Parse(r.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        r.GetString(4), r.GetString(5), r.GetString(6));
}
