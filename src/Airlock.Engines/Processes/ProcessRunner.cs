using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;

using Airlock.Domain.Failures;

using CliWrap;

namespace Airlock.Engines.Processes;

/// <summary>Runs processes for engines; replaceable in tests of code above the engines.</summary>
public interface IProcessRunner
{
    /// <summary>Runs <paramref name="spec"/> to completion, timeout or cancellation. Never throws for a non-zero exit.</summary>
    Task<ProcessResult> RunAsync(ProcessSpec spec, IOutputSink sink, CancellationToken cancellationToken);
}

/// <summary>
/// Runs one child process with CliWrap: argument list, working directory, injected environment,
/// stdout/stderr streamed line by line through a <see cref="Redactor"/> to the sink. On timeout or
/// cancellation it sends SIGINT (CliWrap's graceful cancellation), waits the grace period, then
/// kills the whole process tree.
/// </summary>
public sealed class ProcessRunner(TimeProvider timeProvider) : IProcessRunner
{
    /// <summary>A runner on the system clock.</summary>
    public ProcessRunner()
        : this(TimeProvider.System)
    {
    }

    /// <inheritdoc />
    public async Task<ProcessResult> RunAsync(ProcessSpec spec, IOutputSink sink, CancellationToken cancellationToken)
    {
        var redactor = new Redactor(spec.AllSecrets());
        var stdoutRedaction = redactor.StartLines();
        var stderrRedaction = redactor.StartLines();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var gate = new Lock();

        sink.WriteLine(OutputChannel.Runner, redactor.Redact("$ " + string.Join(' ', new[] { spec.FileName }.Concat(spec.Arguments).Select(Quote))));

        var command = Cli.Wrap(spec.FileName)
            .WithArguments(spec.Arguments)
            .WithWorkingDirectory(spec.WorkingDirectory)
            .WithEnvironmentVariables(env =>
            {
                // Airlock's own settings (database URL, API token, key paths) never reach the tools it
                // runs: inherited AIRLOCK_* variables are removed; only those the spec sets are passed.
                foreach (var inherited in InheritedAirlockVariables())
                {
                    env.Set(inherited, null);
                }

                env.Set(spec.Environment.ToDictionary(p => p.Key, p => (string?)p.Value, StringComparer.Ordinal));
                env.Set(spec.CredentialEnvironment.ToDictionary(p => p.Key, p => (string?)p.Value, StringComparer.Ordinal));
            })
            .WithValidation(CommandResultValidation.None)
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line =>
            {
                var clean = stderrRedaction.RedactLine(line);
                lock (gate)
                {
                    stderr.AppendLine(clean);
                }

                sink.WriteLine(OutputChannel.Stderr, clean);
            }));

        Stream? stdoutFile = null;
        ExceptionDispatchInfo? consumerError = null;
        command = spec.StdoutMode switch
        {
            StdoutMode.Stream => command.WithStandardOutputPipe(PipeTarget.ToDelegate(line =>
            {
                var clean = stdoutRedaction.RedactLine(line);
                lock (gate)
                {
                    stdout.AppendLine(clean);
                }

                sink.WriteLine(OutputChannel.Stdout, clean);
            })),
            StdoutMode.Capture => command.WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout)),
            StdoutMode.File => command.WithStandardOutputPipe(PipeTarget.ToStream(
                stdoutFile = File.Create(spec.StdoutFile ?? throw new ArgumentException("StdoutFile is required for StdoutMode.File", nameof(spec))))),
            StdoutMode.Consume => command.WithStandardOutputPipe(PipeTarget.Create(async (stream, ct) =>
            {
                try
                {
                    await spec.StdoutConsumer!(stream, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    consumerError = ExceptionDispatchInfo.Capture(e);
                }

                // Whatever the consumer left unread, so the process can write to its end and exit.
                await stream.CopyToAsync(Stream.Null, ct);
            })),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.StdoutMode, "unknown stdout mode"),
        };
        if (spec.StdoutMode == StdoutMode.Consume && spec.StdoutConsumer is null)
        {
            throw new ArgumentException("StdoutConsumer is required for StdoutMode.Consume", nameof(spec));
        }

        using var timeout = new CancellationTokenSource(spec.Timeout, timeProvider);
        using var graceful = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var forceful = new CancellationTokenSource();
        await using var escalate = graceful.Token.Register(() =>
        {
            sink.WriteLine(OutputChannel.Runner, timeout.IsCancellationRequested
                ? $"airlock: timeout after {spec.Timeout}; sending SIGINT, killing after {spec.GracePeriod}"
                : $"airlock: cancelled; sending SIGINT, killing after {spec.GracePeriod}");
            forceful.CancelAfter(spec.GracePeriod);
        });

        var started = Stopwatch.GetTimestamp();
        int? exitCode = null;
        try
        {
            var execution = Start(command, forceful.Token, graceful.Token);

            // CliWrap interrupts the process it started; its descendants (a script under /bin/sh -c) get SIGINT too.
            await using var interruptTree = graceful.Token.Register(() => ProcessTree.InterruptDescendants(execution.ProcessId));
            var result = await execution;
            exitCode = result.ExitCode;
        }
        catch (OperationCanceledException) when (graceful.IsCancellationRequested)
        {
            // Stopped by us: the exit code of an interrupted tool says nothing reliable.
        }
        finally
        {
            if (stdoutFile is not null)
            {
                await stdoutFile.DisposeAsync();
            }
        }

        var termination = !graceful.IsCancellationRequested
            ? Termination.Exited
            : timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested ? Termination.TimedOut : Termination.Cancelled;

        if (forceful.IsCancellationRequested)
        {
            sink.WriteLine(OutputChannel.Runner, "airlock: grace period over; process tree killed");
        }

        if (termination == Termination.Exited)
        {
            consumerError?.Throw(); // a process Airlock stopped says why in its result instead
        }

        string outText, errText;
        lock (gate)
        {
            outText = stdout.ToString();
            errText = stderr.ToString();
        }

        return new ProcessResult(termination == Termination.Exited ? exitCode : null, termination, forceful.IsCancellationRequested,
            outText, errText, Stopwatch.GetElapsedTime(started));
    }

    // ETXTBSY: a script written a moment ago may still be open for writing in a child another thread
    // forked (between its fork and exec); the kernel then refuses to execute it. It clears within
    // milliseconds, so a few short retries make starting it reliable.
    private static CommandTask<CommandResult> Start(CliWrap.Command command, CancellationToken forceful, CancellationToken graceful)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return command.ExecuteAsync(forceful, graceful);
            }
            catch (System.ComponentModel.Win32Exception e) when (attempt < 6 && IsTextFileBusy(e))
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(10 * attempt));
            }
        }
    }

    private static bool IsTextFileBusy(System.ComponentModel.Win32Exception e) =>
        e.NativeErrorCode == TextFileBusy || e.InnerException is System.ComponentModel.Win32Exception { NativeErrorCode: TextFileBusy };

    private const int TextFileBusy = 26; // ETXTBSY on Linux

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_=./:@,+".Contains(c, StringComparison.Ordinal)) ? arg : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static IEnumerable<string> InheritedAirlockVariables() =>
        System.Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(name => name.StartsWith("AIRLOCK_", StringComparison.Ordinal));
}
