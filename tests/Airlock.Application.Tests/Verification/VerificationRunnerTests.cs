using System.Net;
using System.Net.Sockets;

using Airlock.Application.Verification;
using Airlock.Domain.Config;
using Airlock.Engines.Processes;
using Airlock.Testing;

namespace Airlock.Application.Tests.Verification;

/// <summary>Real loopback HTTP and TCP servers, real /bin/sh children, the system clock with millisecond intervals.</summary>
public sealed class VerificationRunnerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ShortInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    private static VerificationRunner Runner() => new(TimeProvider.System, new ProcessRunner());

    private static VerificationContext Context(
        string? workingDirectory = null,
        Dictionary<string, string>? placeholders = null,
        Dictionary<string, string>? environment = null,
        string[]? secrets = null,
        Func<CancellationToken, Task<bool>>? drift = null) =>
        new(workingDirectory ?? Path.GetTempPath(),
            placeholders ?? [],
            environment ?? [],
            secrets ?? [],
            drift ?? (_ => throw new InvalidOperationException("this test has no drift probe")));

    private static HttpCheck Http(string url, int retries = 0, int expect = 200, string? bodyContains = null, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        new(url, expect, retries, interval ?? ShortInterval, timeout ?? AttemptTimeout, bodyContains);

    private static async Task<CheckOutcome> RunOneAsync(CheckConfig check, VerificationContext context)
    {
        var outcomes = await Runner().RunAsync([check], context, CancellationToken.None);
        return Assert.Single(outcomes);
    }

    /// <summary>A loopback port that was just free and is now closed, so connecting is refused.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    // ---- http ----

    [Fact]
    public async Task Http_check_passes_on_the_expected_status_at_the_first_attempt()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200, "ok"));

        var outcome = await RunOneAsync(Http(server.Url(), retries: 3), Context());

        Assert.Equal(new CheckOutcome("http", server.Url(), true, 1, "200 after 1 attempt"), outcome);
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public async Task Http_check_retries_a_wrong_status_until_the_expected_one_arrives()
    {
        await using var server = new LoopbackHttpServer(n => new HttpReply(n < 3 ? 503 : 200));

        var outcome = await RunOneAsync(Http(server.Url(), retries: 5), Context());

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.Equal(3, outcome.Attempts);
        Assert.Equal("200 after 3 attempts", outcome.Detail);
        Assert.Equal(3, server.RequestCount);
    }

    [Fact]
    public async Task Http_check_that_never_gets_healthy_fails_after_one_attempt_plus_the_retries()
    {
        // docs/configuration.md: retries are "extra attempts before the check fails".
        await using var server = new LoopbackHttpServer(_ => new HttpReply(500));

        var outcome = await RunOneAsync(Http(server.Url(), retries: 3), Context());

        Assert.False(outcome.Passed);
        Assert.Equal(4, outcome.Attempts);
        Assert.Equal(4, server.RequestCount);
        Assert.StartsWith("expected 200, got 500 (4 attempts over ", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_check_waits_the_interval_between_attempts()
    {
        var interval = TimeSpan.FromMilliseconds(150);
        await using var server = new LoopbackHttpServer(_ => new HttpReply(500));

        var outcome = await RunOneAsync(Http(server.Url(), retries: 2, interval: interval), Context());

        Assert.Equal(3, outcome.Attempts);
        var gaps = server.Gaps();
        Assert.Equal(2, gaps.Count);
        // Only a lower bound: the wait must happen; how much longer it takes is the machine's business.
        Assert.All(gaps, gap => Assert.True(gap >= interval - TimeSpan.FromMilliseconds(15), $"gap {gap.TotalMilliseconds}ms is shorter than the interval"));
    }

    [Fact]
    public async Task Http_check_accepts_a_status_other_than_200_when_that_is_expected()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(404));

        var outcome = await RunOneAsync(Http(server.Url(), expect: 404), Context());

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.Equal("404 after 1 attempt", outcome.Detail);
    }

    [Fact]
    public async Task Http_check_passes_when_the_body_contains_the_substituted_text()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200, "{\"status\":\"ok\",\"version\":\"v1.4.2\"}"));

        var outcome = await RunOneAsync(Http(server.Url(), bodyContains: "\"version\":\"{version}\""), Context(placeholders: new() { ["version"] = "v1.4.2" }));

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.Equal("200 with \"\"version\":\"v1.4.2\"\" in the body after 1 attempt", outcome.Detail);
    }

    [Fact]
    public async Task Http_check_fails_when_the_body_lacks_the_text_even_with_the_right_status()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200, "version v1.4.1"));

        var outcome = await RunOneAsync(Http(server.Url(), retries: 1, bodyContains: "{version}"), Context(placeholders: new() { ["version"] = "v1.4.2" }));

        Assert.False(outcome.Passed);
        Assert.Equal(2, outcome.Attempts);
        Assert.StartsWith("200, but the body does not contain \"v1.4.2\" (2 attempts over ", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_check_counts_a_refused_connection_as_a_failed_attempt()
    {
        var url = $"http://127.0.0.1:{ClosedPort()}/health";

        var outcome = await RunOneAsync(Http(url, retries: 1), Context());

        Assert.False(outcome.Passed);
        Assert.Equal(2, outcome.Attempts);
        Assert.StartsWith("connection refused (2 attempts over ", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_check_gives_up_on_an_attempt_after_its_timeout()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200, Delay: TimeSpan.FromSeconds(30)));

        var outcome = await RunOneAsync(Http(server.Url(), timeout: TimeSpan.FromMilliseconds(200)), Context()).WaitAsync(Patience);

        Assert.False(outcome.Passed);
        Assert.StartsWith("no answer within 200ms (1 attempt over ", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Within_the_start_period_attempts_that_get_no_answer_do_not_count_against_the_retries()
    {
        // No retries at all: without a start period the first refused connection fails the check.
        var port = ClosedPort();
        var check = Http($"http://127.0.0.1:{port}/health", retries: 0, interval: TimeSpan.FromMilliseconds(100)) with { StartPeriod = TimeSpan.FromSeconds(15) };
        var run = RunOneAsync(check, Context());
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200, "ok"), port);

        var outcome = await run.WaitAsync(Patience);

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.True(outcome.Attempts > 1, outcome.Detail);
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public async Task Within_the_start_period_an_answer_that_is_wrong_still_counts()
    {
        // The service listens and answers 503: it is unhealthy now, not starting; the start period does not wait for it.
        await using var server = new LoopbackHttpServer(_ => new HttpReply(503));
        var check = Http(server.Url(), retries: 2) with { StartPeriod = TimeSpan.FromMinutes(5) };

        var outcome = await RunOneAsync(check, Context()).WaitAsync(Patience);

        Assert.False(outcome.Passed);
        Assert.Equal(3, outcome.Attempts);
        Assert.StartsWith("expected 200, got 503 (3 attempts over ", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_that_never_listens_fails_once_the_start_period_and_the_retries_are_spent()
    {
        var port = ClosedPort();
        var check = new TcpCheck("127.0.0.1", port, TimeSpan.FromSeconds(5), Retries: 1, Interval: TimeSpan.FromMilliseconds(50), StartPeriod: TimeSpan.FromMilliseconds(600));

        var outcome = await RunOneAsync(check, Context()).WaitAsync(Patience);

        Assert.False(outcome.Passed);
        Assert.True(outcome.Attempts > 2, $"{outcome.Attempts} attempts: the start period's were not forgiven");
        Assert.StartsWith($"connection refused ({outcome.Attempts} attempts over ", outcome.Detail, StringComparison.Ordinal);
    }

    // ---- tcp ----

    [Fact]
    public async Task Tcp_check_passes_when_a_listener_accepts_the_connection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = listener.AcceptTcpClientAsync();

        var outcome = await RunOneAsync(new TcpCheck("{host}", port, TimeSpan.FromSeconds(5)), Context(placeholders: new() { ["host"] = "127.0.0.1" }));

        Assert.Equal(new CheckOutcome("tcp", $"127.0.0.1:{port}", true, 1, "connected"), outcome);
        using var connection = await accepted.WaitAsync(Patience);
    }

    [Fact]
    public async Task Tcp_check_fails_on_a_closed_port()
    {
        var port = ClosedPort();

        var outcome = await RunOneAsync(new TcpCheck("127.0.0.1", port, TimeSpan.FromSeconds(5)), Context());

        Assert.Equal(new CheckOutcome("tcp", $"127.0.0.1:{port}", false, 1, "connection refused"), outcome);
    }

    [Fact]
    public async Task Tcp_check_retries_until_a_service_that_starts_late_listens()
    {
        // The deployed service opens its port only after the check's first attempts were refused.
        var port = ClosedPort();
        using var listener = new TcpListener(IPAddress.Loopback, port);
        var check = new TcpCheck("127.0.0.1", port, TimeSpan.FromSeconds(5), Retries: 150, Interval: TimeSpan.FromMilliseconds(100));
        var run = RunOneAsync(check, Context());
        await Task.Delay(TimeSpan.FromSeconds(1));
        listener.Start();

        var outcome = await run.WaitAsync(Patience);

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.InRange(outcome.Attempts, 2, 151);
        Assert.Equal($"connected after {outcome.Attempts} attempts", outcome.Detail);
    }

    [Fact]
    public async Task Tcp_check_that_never_connects_fails_after_one_attempt_plus_the_retries()
    {
        var port = ClosedPort();

        var outcome = await RunOneAsync(new TcpCheck("127.0.0.1", port, TimeSpan.FromSeconds(5), Retries: 2, Interval: ShortInterval), Context());

        Assert.False(outcome.Passed);
        Assert.Equal(3, outcome.Attempts);
        Assert.StartsWith("connection refused (3 attempts over ", outcome.Detail, StringComparison.Ordinal);
    }

    // ---- command ----

    [Fact]
    public async Task Command_check_runs_again_until_it_exits_0()
    {
        using var dir = new TempDir();

        // Fails on its first two runs (a migration still finishing, a cache still warming), then passes.
        var outcome = await RunOneAsync(
            new CommandCheck("echo run >> runs.txt; test $(wc -l < runs.txt) -ge 3 || { echo 'not ready' >&2; exit 1; }", TimeSpan.FromMinutes(1), Retries: 5, Interval: ShortInterval),
            Context(workingDirectory: dir.Path));

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.Equal(3, outcome.Attempts);
        Assert.Equal("exit code 0 after 3 attempts", outcome.Detail);
        Assert.Equal(3, File.ReadAllLines(dir.File("runs.txt")).Length);
    }

    [Fact]
    public async Task Command_check_that_keeps_failing_reports_its_last_run_after_every_retry()
    {
        using var dir = new TempDir();

        var outcome = await RunOneAsync(
            new CommandCheck("echo run >> runs.txt; echo \"not ready ($(wc -l < runs.txt))\" >&2; exit 2", TimeSpan.FromMinutes(1), Retries: 2, Interval: ShortInterval),
            Context(workingDirectory: dir.Path));

        Assert.False(outcome.Passed);
        Assert.Equal(3, outcome.Attempts);
        Assert.StartsWith("exit code 2: not ready (3) (3 attempts over ", outcome.Detail, StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(dir.File("runs.txt")).Length);
    }


    [Fact]
    public async Task Command_check_passes_on_exit_0()
    {
        var outcome = await RunOneAsync(new CommandCheck("exit 0", TimeSpan.FromMinutes(1)), Context());

        Assert.Equal(new CheckOutcome("command", "exit 0", true, 1, "exit code 0"), outcome);
    }

    [Fact]
    public async Task Command_check_fails_with_the_exit_code_and_the_last_stderr_line()
    {
        var outcome = await RunOneAsync(new CommandCheck("echo starting; echo 'first problem' >&2; echo 'disk full' >&2; exit 3", TimeSpan.FromMinutes(1)), Context());

        Assert.False(outcome.Passed);
        Assert.Equal(1, outcome.Attempts);
        Assert.Equal("exit code 3: disk full", outcome.Detail);
    }

    [Fact]
    public async Task Command_check_redacts_secrets_from_its_detail_and_target()
    {
        const string Secret = "hunter2-very-secret";

        var outcome = await RunOneAsync(
            new CommandCheck($"echo 'token {Secret} rejected' >&2; exit 1", TimeSpan.FromMinutes(1)),
            Context(secrets: [Secret]));

        Assert.False(outcome.Passed);
        Assert.Equal("exit code 1: token [REDACTED] rejected", outcome.Detail);
        Assert.DoesNotContain(Secret, outcome.Target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Command_check_fails_when_it_runs_past_its_timeout()
    {
        var outcome = await RunOneAsync(new CommandCheck("sleep 30", TimeSpan.FromMilliseconds(300)), Context()).WaitAsync(Patience);

        Assert.Equal(new CheckOutcome("command", "sleep 30", false, 1, "timed out after 300ms"), outcome);
    }

    [Fact]
    public async Task Command_check_runs_in_the_working_directory_with_the_given_environment()
    {
        using var dir = new TempDir();

        var outcome = await RunOneAsync(
            new CommandCheck("printf '%s' \"$GREETING\" > seen.txt", TimeSpan.FromMinutes(1)),
            Context(workingDirectory: dir.Path, environment: new() { ["GREETING"] = "hello from airlock" }));

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.Equal("hello from airlock", File.ReadAllText(dir.File("seen.txt")));
    }

    [Fact]
    public async Task Command_check_in_a_missing_directory_fails_instead_of_throwing()
    {
        var missing = Path.Combine(Path.GetTempPath(), "airlock-missing-" + Guid.NewGuid().ToString("N"));

        var outcome = await RunOneAsync(new CommandCheck("exit 0", TimeSpan.FromMinutes(1)), Context(workingDirectory: missing));

        Assert.False(outcome.Passed);
        Assert.StartsWith("could not start: ", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shell_braces_after_a_dollar_are_not_placeholders()
    {
        var outcome = await RunOneAsync(
            new CommandCheck("test \"${GREETING}\" = hello", TimeSpan.FromMinutes(1)),
            Context(environment: new() { ["GREETING"] = "hello" }));

        Assert.True(outcome.Passed, outcome.Detail);
    }

    [Fact]
    public async Task A_placeholder_value_with_shell_syntax_is_not_pasted_into_a_command()
    {
        using var dir = new TempDir();

        var outcome = await RunOneAsync(
            new CommandCheck("echo {version}", TimeSpan.FromMinutes(1)),
            Context(workingDirectory: dir.Path, placeholders: new() { ["version"] = "v1;touch pwned" }));

        Assert.False(outcome.Passed);
        Assert.Equal(0, outcome.Attempts);
        Assert.Contains("{version}", outcome.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("pwned")));
    }

    // ---- drift ----

    [Fact]
    public async Task Drift_check_passes_when_the_probe_finds_no_drift()
    {
        var outcome = await RunOneAsync(new DriftCheck(), Context(placeholders: new() { ["stack"] = "network" }, drift: _ => Task.FromResult(false)));

        Assert.Equal(new CheckOutcome("drift", "network", true, 1, "a fresh plan shows no changes"), outcome);
    }

    [Fact]
    public async Task Drift_check_fails_when_the_probe_finds_drift()
    {
        var outcome = await RunOneAsync(new DriftCheck(), Context(placeholders: new() { ["stack"] = "network" }, drift: _ => Task.FromResult(true)));

        Assert.Equal(new CheckOutcome("drift", "network", false, 1, "a fresh plan shows changes"), outcome);
    }

    [Fact]
    public async Task Drift_check_fails_with_the_first_line_of_the_probes_exception()
    {
        var outcome = await RunOneAsync(new DriftCheck(), Context(
            placeholders: new() { ["stack"] = "network" },
            drift: _ => throw new InvalidOperationException("state lock held by ci-42\nLock Info: id 7f3c")));

        Assert.Equal(new CheckOutcome("drift", "network", false, 1, "drift check failed: state lock held by ci-42"), outcome);
    }

    // ---- placeholders ----

    [Fact]
    public async Task Placeholders_are_substituted_into_the_url()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200));

        var outcome = await RunOneAsync(
            Http("http://127.0.0.1:{port}/health/{env}"),
            Context(placeholders: new() { ["port"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["env"] = "prod" }));

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.Equal(server.Url("/health/prod"), outcome.Target);
        Assert.Equal(["/health/prod"], server.Paths);
    }

    [Fact]
    public async Task An_unknown_placeholder_fails_the_check_without_a_request_and_names_the_placeholder()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200));

        var outcome = await RunOneAsync(Http(server.Url("/{region}/health")), Context(placeholders: new() { ["env"] = "prod" }));

        Assert.Equal(new CheckOutcome("http", server.Url("/{region}/health"), false, 0, "unknown placeholder {region} in url"), outcome);
        Assert.Equal(0, server.RequestCount);
    }

    [Fact]
    public async Task An_unknown_placeholder_in_a_command_fails_it_without_running_it()
    {
        using var dir = new TempDir();

        var outcome = await RunOneAsync(new CommandCheck("touch ran; curl https://{service}.internal/", TimeSpan.FromMinutes(1)), Context(workingDirectory: dir.Path));

        Assert.False(outcome.Passed);
        Assert.Equal("unknown placeholder {service} in run", outcome.Detail);
        Assert.False(File.Exists(dir.File("ran")));
    }

    [Fact]
    public async Task A_secret_placeholder_value_is_redacted_from_the_target()
    {
        const string Token = "s3cr3t-health-token";
        await using var server = new LoopbackHttpServer(_ => new HttpReply(200));

        var outcome = await RunOneAsync(Http(server.Url("/health?token={token}")), Context(placeholders: new() { ["token"] = Token }, secrets: [Token]));

        Assert.True(outcome.Passed, outcome.Detail);
        Assert.Equal(server.Url("/health?token=[REDACTED]"), outcome.Target);
        Assert.Equal([$"/health?token={Token}"], server.Paths);
    }

    // ---- the run as a whole ----

    [Fact]
    public async Task Every_check_runs_in_order_even_after_a_failure()
    {
        var port = ClosedPort();
        CheckConfig[] checks =
        [
            new CommandCheck("exit 1", TimeSpan.FromMinutes(1)),
            new DriftCheck(),
            new TcpCheck("127.0.0.1", port, TimeSpan.FromSeconds(5)),
            new CommandCheck("exit 0", TimeSpan.FromMinutes(1)),
        ];

        var outcomes = await Runner().RunAsync(checks, Context(drift: _ => Task.FromResult(false)), CancellationToken.None);

        Assert.Equal(["command", "drift", "tcp", "command"], outcomes.Select(o => o.Kind));
        Assert.Equal([false, true, false, true], outcomes.Select(o => o.Passed));
    }

    [Fact]
    public async Task Cancellation_stops_a_long_retry_loop_promptly()
    {
        await using var server = new LoopbackHttpServer(_ => new HttpReply(503));
        using var cancellation = new CancellationTokenSource();
        var run = Runner().RunAsync([Http(server.Url(), retries: 1000, interval: TimeSpan.FromHours(1))], Context(), cancellation.Token);

        await server.WaitForRequestAsync(Patience);
        await cancellation.CancelAsync();

        // WaitAsync throws TimeoutException (not an OperationCanceledException) if the runner keeps waiting out the hour.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public async Task Cancellation_stops_a_running_command_check()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var run = Runner().RunAsync([new CommandCheck("sleep 30", TimeSpan.FromHours(1))], Context(), cancellation.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
    }

    [Fact]
    public async Task Cancellation_reaches_the_drift_probe_and_propagates()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        var run = Runner().RunAsync([new DriftCheck()], Context(drift: async ct =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return false;
        }), cancellation.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
    }
}
