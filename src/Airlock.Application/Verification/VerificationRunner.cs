using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

using Airlock.Domain.Config;
using Airlock.Domain.Failures;
using Airlock.Engines.Processes;

namespace Airlock.Application.Verification;

/// <summary>
/// Runs a stack's <c>verify:</c> checks after an apply (DESIGN.md §3 "Verifying"): HTTP, TCP,
/// command and drift. Every check runs, in order, even after a failure, so evidence shows each one;
/// a failed check is an outcome, never an exception. Only cancellation throws.
/// </summary>
/// <param name="time">Clock for retry intervals and per-attempt timeouts.</param>
/// <param name="processes">Runs command checks (the engines' process runner).</param>
/// <param name="httpHandler">HTTP handler to use; null for a fresh <see cref="SocketsHttpHandler"/> per check.</param>
public sealed class VerificationRunner(TimeProvider time, IProcessRunner processes, HttpMessageHandler? httpHandler = null)
{
    /// <summary>How much of a response body <c>body_contains</c> looks at; health pages are small, a runaway stream is not read whole.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    // Time between SIGINT and killing a command check that ran out of time; a health probe has nothing worth a long wait.
    private static readonly TimeSpan CommandGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>Runs every check in order and returns one outcome per check.</summary>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled.</exception>
    public async Task<IReadOnlyList<CheckOutcome>> RunAsync(IReadOnlyList<CheckConfig> checks, VerificationContext context, CancellationToken cancellationToken)
    {
        var redactor = new Redactor(context.Secrets);
        var outcomes = new List<CheckOutcome>(checks.Count);
        foreach (var check in checks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outcome = check switch
            {
                HttpCheck http => await RunHttpAsync(http, context, cancellationToken),
                TcpCheck tcp => await RunTcpAsync(tcp, context, cancellationToken),
                CommandCheck command => await RunCommandAsync(command, context, cancellationToken),
                DriftCheck => await RunDriftAsync(context, cancellationToken),
                _ => new CheckOutcome("unknown", check.GetType().Name, false, 0, $"Airlock cannot run a {check.GetType().Name}"),
            };

            // Placeholder values and tool messages can carry secrets; nothing leaves unredacted.
            outcomes.Add(outcome with { Target = OneLine(redactor.Redact(outcome.Target)), Detail = OneLine(redactor.Redact(outcome.Detail)) });
        }

        return outcomes;
    }

    private async Task<CheckOutcome> RunHttpAsync(HttpCheck check, VerificationContext context, CancellationToken cancellationToken)
    {
        var url = PlaceholderText.Substitute(check.Url, context.Placeholders);
        if (!url.IsComplete)
        {
            return Failed("http", url.Text, 0, url.Problem("url"));
        }

        string? needle = null;
        if (check.BodyContains is { } bodyContains)
        {
            var substituted = PlaceholderText.Substitute(bodyContains, context.Placeholders);
            if (!substituted.IsComplete)
            {
                return Failed("http", url.Text, 0, substituted.Problem("body_contains"));
            }

            needle = substituted.Text;
        }

        if (!Uri.TryCreate(url.Text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return Failed("http", url.Text, 0, "url is not an absolute http:// or https:// URL");
        }

        using var client = CreateHttpClient(check.Expect);
        var result = await AttemptAsync(check.Retries, check.Interval, check.StartPeriod, () => AttemptHttpAsync(client, uri, check, needle, cancellationToken), cancellationToken);
        return Outcome("http", url.Text, result, alwaysCountAttempts: true);
    }

    /// <summary>
    /// Attempts <paramref name="interval"/> apart until one passes or <paramref name="retries"/> + 1 have failed
    /// (retries are extra attempts, docs/configuration.md). Within <paramref name="startPeriod"/> of the first, a
    /// failure that got no answer does not count: a service just deployed may not listen yet, while one that answers
    /// wrongly is unhealthy now (Docker's start period, narrowed to the failures that starting explains).
    /// </summary>
    private async Task<(bool Passed, int Attempts, string Detail, TimeSpan Elapsed)> AttemptAsync(
        int retries, TimeSpan interval, TimeSpan startPeriod, Func<Task<Attempt>> attempt, CancellationToken cancellationToken)
    {
        var allowed = Math.Max(0, retries) + 1;
        var started = time.GetTimestamp();
        var (made, counted) = (0, 0);
        while (true)
        {
            if (made > 0)
            {
                await Task.Delay(interval, time, cancellationToken);
            }

            var result = await attempt();
            made++;
            if (result.Passed)
            {
                return (true, made, result.Detail, time.GetElapsedTime(started));
            }

            var starting = !result.Answered && time.GetElapsedTime(started) < startPeriod;
            if (!starting && ++counted >= allowed)
            {
                return (false, made, result.Detail, time.GetElapsedTime(started));
            }
        }
    }

    /// <summary>One attempt: passed or not, why, and whether the target answered at all (see the start period).</summary>
    private readonly record struct Attempt(bool Passed, string Detail, bool Answered)
    {
        public static Attempt Pass(string detail) => new(true, detail, true);

        public static Attempt Unhealthy(string detail) => new(false, detail, true);

        public static Attempt NoAnswer(string detail) => new(false, detail, false);
    }

    /// <summary>
    /// The outcome of a check: several attempts say how many and, on failure, over how long. A single TCP or
    /// command attempt reads as before retries existed ("connected", "exit code 3: disk full"); HTTP outcomes
    /// have always said how many attempts they took (<paramref name="alwaysCountAttempts"/>).
    /// </summary>
    private static CheckOutcome Outcome(string kind, string target, (bool Passed, int Attempts, string Detail, TimeSpan Elapsed) result, bool alwaysCountAttempts = false) => result switch
    {
        { Attempts: 1 } when !alwaysCountAttempts => new CheckOutcome(kind, target, result.Passed, 1, result.Detail),
        { Passed: true } => new CheckOutcome(kind, target, true, result.Attempts, $"{result.Detail} after {Count(result.Attempts, "attempt")}"),
        _ => Failed(kind, target, result.Attempts, $"{result.Detail} ({Count(result.Attempts, "attempt")} over {FormatDuration(result.Elapsed)})"),
    };

    private HttpClient CreateHttpClient(int expect)
    {
        // The check asks for a status, so redirects are followed only when no redirect status is expected.
        var client = httpHandler is null
            ? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = expect is < 300 or > 399 }, disposeHandler: true)
            : new HttpClient(httpHandler, disposeHandler: false);
        client.Timeout = Timeout.InfiniteTimeSpan; // each attempt has its own timeout on our clock
        return client;
    }

    private async Task<Attempt> AttemptHttpAsync(HttpClient client, Uri url, HttpCheck check, string? needle, CancellationToken cancellationToken)
    {
        using var attemptTimeout = new CancellationTokenSource(check.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var status = (int)response.StatusCode;
            if (status != check.Expect)
            {
                return Attempt.Unhealthy($"expected {check.Expect}, got {status}");
            }

            if (needle is null)
            {
                return Attempt.Pass(status.ToString(CultureInfo.InvariantCulture));
            }

            var body = await ReadBodyPrefixAsync(response.Content, linked.Token);
            return body.Contains(needle, StringComparison.Ordinal)
                ? Attempt.Pass($"{status} with \"{needle}\" in the body")
                : Attempt.Unhealthy($"{status}, but the body does not contain \"{needle}\"");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Attempt.NoAnswer($"no answer within {FormatDuration(check.Timeout)}");
        }
        catch (HttpRequestException e)
        {
            return Attempt.NoAnswer(DescribeHttpError(e));
        }
        catch (IOException e)
        {
            return Attempt.Unhealthy($"response body failed: {e.Message}");
        }
    }

    private static async Task<string> ReadBodyPrefixAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes);
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            var length = 0;
            int read;
            while (length < MaxBodyBytes && (read = await stream.ReadAsync(buffer.AsMemory(length, MaxBodyBytes - length), cancellationToken)) > 0)
            {
                length += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string DescribeHttpError(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return DescribeSocketError(socket);
            }
        }

        return e.HttpRequestError == HttpRequestError.SecureConnectionError ? $"TLS failed: {e.Message}" : e.Message;
    }

    private async Task<CheckOutcome> RunTcpAsync(TcpCheck check, VerificationContext context, CancellationToken cancellationToken)
    {
        var host = PlaceholderText.Substitute(check.Host, context.Placeholders);
        var target = $"{host.Text}:{check.Port.ToString(CultureInfo.InvariantCulture)}";
        if (!host.IsComplete)
        {
            return Failed("tcp", target, 0, host.Problem("host"));
        }

        if (host.Text.Length == 0 || check.Port is < 1 or > 65535)
        {
            return Failed("tcp", target, 0, "host must be set and port between 1 and 65535");
        }

        var result = await AttemptAsync(check.Retries, check.Interval, check.StartPeriod, () => AttemptTcpAsync(host.Text, check, cancellationToken), cancellationToken);
        return Outcome("tcp", target, result);
    }

    private async Task<Attempt> AttemptTcpAsync(string host, TcpCheck check, CancellationToken cancellationToken)
    {
        using var attemptTimeout = new CancellationTokenSource(check.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, check.Port, linked.Token);
            return Attempt.Pass("connected");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Attempt.NoAnswer($"no connection within {FormatDuration(check.Timeout)}");
        }
        catch (SocketException e)
        {
            return Attempt.NoAnswer(DescribeSocketError(e));
        }
    }

    private static string DescribeSocketError(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
        SocketError.TimedOut => "connection timed out",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.ConnectionReset => "connection reset",
        _ => e.Message,
    };

    private async Task<CheckOutcome> RunCommandAsync(CommandCheck check, VerificationContext context, CancellationToken cancellationToken)
    {
        var command = PlaceholderText.Substitute(check.Run, context.Placeholders, shellWordsOnly: true);
        if (!command.IsComplete)
        {
            return Failed("command", command.Text, 0, command.Problem("run"));
        }

        var result = await AttemptAsync(check.Retries, check.Interval, TimeSpan.Zero, () => AttemptCommandAsync(command.Text, check, context, cancellationToken), cancellationToken);
        return Outcome("command", command.Text, result);
    }

    private async Task<Attempt> AttemptCommandAsync(string command, CommandCheck check, VerificationContext context, CancellationToken cancellationToken)
    {
        var spec = new ProcessSpec
        {
            FileName = "/bin/sh",
            Arguments = ["-c", command],
            WorkingDirectory = context.WorkingDirectory,
            Environment = context.Environment,
            Secrets = context.Secrets,
            Timeout = check.Timeout,
            GracePeriod = CommandGracePeriod,
            StdoutMode = StdoutMode.Stream, // redacted like stderr, so the last line can explain a failure
        };

        ProcessResult result;
        try
        {
            result = await processes.RunAsync(spec, NullOutputSink.Instance, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // e.g. a working directory that does not exist: the check failed, the run goes on.
            return Attempt.Unhealthy($"could not start: {e.Message}");
        }

        if (result.Termination == Termination.Cancelled)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        var detail = result switch
        {
            { Termination: Termination.Exited, ExitCode: { } code } => WithLastLine($"exit code {code.ToString(CultureInfo.InvariantCulture)}", code == 0 ? null : LastLine(result.Stderr) ?? LastLine(result.Stdout)),
            { Termination: Termination.TimedOut } => $"timed out after {FormatDuration(check.Timeout)}",
            { Termination: Termination.Cancelled } => "cancelled",
            _ => "killed by a signal Airlock did not send",
        };
        return new Attempt(result.Succeeded, detail, Answered: true);
    }

    private static string WithLastLine(string detail, string? line) => line is null ? detail : $"{detail}: {line}";

    private static string? LastLine(string output) =>
        output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) is { } line
            ? line.Length > 200 ? line[..200] + "…" : line
            : null;

    private static async Task<CheckOutcome> RunDriftAsync(VerificationContext context, CancellationToken cancellationToken)
    {
        var stack = context.Placeholders.GetValueOrDefault("stack") ?? "";
        try
        {
            return await context.DriftProbe(cancellationToken)
                ? Failed("drift", stack, 1, "a fresh plan shows changes")
                : new CheckOutcome("drift", stack, true, 1, "a fresh plan shows no changes");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // The probe is an engine plan: any failure of it means drift could not be ruled out.
            return Failed("drift", stack, 1, $"drift check failed: {FirstLine(e.Message)}");
        }
    }

    private static CheckOutcome Failed(string kind, string target, int attempts, string detail) => new(kind, target, false, attempts, detail);

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString(CultureInfo.InvariantCulture)} {noun}s";

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Milliseconds below a second (tests and tight probes), the config's duration syntax above.</summary>
    internal static string FormatDuration(TimeSpan duration) => duration < TimeSpan.FromSeconds(1)
        ? $"{((int)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}ms"
        : Durations.Format(TimeSpan.FromSeconds(Math.Round(duration.TotalSeconds)));
}
