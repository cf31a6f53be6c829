using Airlock.Domain.Failures;

namespace Airlock.Engines.Processes;

/// <summary>Where a process's standard output goes.</summary>
public enum StdoutMode
{
    /// <summary>Redacted, line by line, to the sink (and kept for classification).</summary>
    Stream,

    /// <summary>Raw into memory only, never to the sink: state, outputs and other documents that may hold secrets.</summary>
    Capture,

    /// <summary>Raw into <see cref="ProcessSpec.StdoutFile"/>: large documents such as plan JSON.</summary>
    File,

    /// <summary>
    /// Raw to <see cref="ProcessSpec.StdoutConsumer"/> as it arrives, never held whole nor sent to the sink:
    /// documents of any size read for a few facts (a state's serial, its digest).
    /// </summary>
    Consume,
}

/// <summary>One process to run: an argument list (never a shell string), where and with what.</summary>
public sealed record ProcessSpec
{
    /// <summary>Executable name or absolute path.</summary>
    public required string FileName { get; init; }

    /// <summary>Arguments, passed to the process one by one, never through a shell.</summary>
    public required IReadOnlyList<string> Arguments { get; init; }

    /// <summary>Working directory.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>Plain environment variables (e.g. TF_IN_AUTOMATION).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Identity-profile variables: injected, never logged, and their values redacted from all output.</summary>
    public IReadOnlyDictionary<string, string> CredentialEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Further configured secret values to redact.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>Wall-clock limit; on expiry the process is interrupted like a cancellation.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Time between SIGINT and killing the whole process tree.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where stdout goes.</summary>
    public StdoutMode StdoutMode { get; init; } = StdoutMode.Stream;

    /// <summary>The file for <see cref="StdoutMode.File"/>.</summary>
    public string? StdoutFile { get; init; }

    /// <summary>
    /// Reads stdout for <see cref="StdoutMode.Consume"/>. It may stop early: the rest is drained so the
    /// process never blocks on a full pipe. An exception it throws is rethrown once the process has exited by itself.
    /// </summary>
    public Func<Stream, CancellationToken, Task>? StdoutConsumer { get; init; }

    /// <summary>Every value that must never appear in logs.</summary>
    public IEnumerable<string> AllSecrets() => CredentialEnvironment.Values.Concat(Secrets);

    /// <inheritdoc />
    public override string ToString() => $"{FileName} ({Arguments.Count} args) in {WorkingDirectory}";
}

/// <summary>How a process run ended, with its redacted output.</summary>
/// <param name="ExitCode">Exit code when it exited by itself (null when stopped by Airlock).</param>
/// <param name="Termination">Exited, timed out, cancelled.</param>
/// <param name="ForceKilled">True when the grace period ran out and the process tree was killed.</param>
/// <param name="Stdout">Redacted stdout for <see cref="StdoutMode.Stream"/>; raw stdout for <see cref="StdoutMode.Capture"/>; empty for files and consumers.</param>
/// <param name="Stderr">Redacted stderr.</param>
/// <param name="Duration">Wall time.</param>
public sealed record ProcessResult(int? ExitCode, Termination Termination, bool ForceKilled, string Stdout, string Stderr, TimeSpan Duration)
{
    /// <summary>True when the process exited by itself with code 0.</summary>
    public bool Succeeded => Termination == Termination.Exited && ExitCode == 0;

    /// <summary>Redacted text for the classifier: stderr first (where errors go), then streamed stdout.</summary>
    public string TextForClassification(StdoutMode mode) => mode == StdoutMode.Stream ? Stderr + "\n" + Stdout : Stderr;
}

/// <summary>Which stream a line came from.</summary>
public enum OutputChannel
{
    /// <summary>Standard output.</summary>
    Stdout,

    /// <summary>Standard error.</summary>
    Stderr,

    /// <summary>A line Airlock itself writes (the redacted command line, the stop reason).</summary>
    Runner,
}

/// <summary>Receives already-redacted output lines as they arrive (the terminal now, the store later).</summary>
public interface IOutputSink
{
    /// <summary>One redacted line. Called from reader threads; implementations must be thread-safe.</summary>
    void WriteLine(OutputChannel stream, string line);
}

/// <summary>A sink that drops everything.</summary>
public sealed class NullOutputSink : IOutputSink
{
    /// <summary>The shared instance.</summary>
    public static NullOutputSink Instance { get; } = new();

    /// <inheritdoc />
    public void WriteLine(OutputChannel stream, string line)
    {
    }
}
