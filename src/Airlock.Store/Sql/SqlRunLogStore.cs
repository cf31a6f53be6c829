using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>Run logs shared by both backends: one row per line, keyed by (run, seq).</summary>
internal sealed class SqlRunLogStore(SqlContext context) : IRunLogStore
{
    public async Task AppendAsync(IReadOnlyList<RunLogLine> lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (lines.Count == 0)
        {
            return;
        }

        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        foreach (var line in lines)
        {
            await connection.ExecuteAsync(transaction, "INSERT INTO run_logs (run_id, seq, at, stream, line) VALUES (@run, @seq, @at, @stream, @line)", cancellationToken,
                ("@run", line.RunId), ("@seq", line.Seq), ("@at", Db.Ms(line.At)), ("@stream", line.Stream), ("@line", line.Line)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RunLogLine>> ReadAsync(string runId, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null,
            "SELECT run_id, seq, at, stream, line FROM run_logs WHERE run_id = @run AND seq > @after ORDER BY seq LIMIT @limit",
            r => new RunLogLine(r.GetString(0), r.GetInt64(1), Db.Instant(r.GetInt64(2)), r.GetString(3), r.GetString(4)),
            cancellationToken, ("@run", runId), ("@after", afterSeq), ("@limit", limit)).ConfigureAwait(false);
    }
}
