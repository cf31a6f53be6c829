namespace Airlock.Domain.Storage;

/// <summary>One line of a run's log.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Seq">1, 2, 3… within the run.</param>
/// <param name="At">When it was written.</param>
/// <param name="Stream">"stdout" or "stderr" (the engine's output, already redacted) or "airlock" (transitions and notes).</param>
/// <param name="Line">The text.</param>
public sealed record RunLogLine(string RunId, long Seq, DateTimeOffset At, string Stream, string Line);

/// <summary>Engine output and Airlock's own lines per run, so any replica can stream any run's log.</summary>
public interface IRunLogStore
{
    /// <summary>Appends <paramref name="lines"/> (their sequence numbers chosen by the run's single writer).</summary>
    Task AppendAsync(IReadOnlyList<RunLogLine> lines, CancellationToken cancellationToken);

    /// <summary>Lines of <paramref name="runId"/> with a sequence number above <paramref name="afterSeq"/>, in order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<RunLogLine>> ReadAsync(string runId, long afterSeq, int limit, CancellationToken cancellationToken);
}
