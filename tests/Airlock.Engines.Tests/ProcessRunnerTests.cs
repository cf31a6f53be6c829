using Airlock.Domain.Failures;
using Airlock.Engines.Processes;
using Airlock.Testing;

namespace Airlock.Engines.Tests;

public sealed class ProcessRunnerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Arguments_reach_the_child_verbatim_as_a_list_not_a_shell_string()
    {
        using var dir = new TempDir();
        var script = Scripts.Write(dir, "args.sh", "for a in \"$@\"; do printf '<%s>\\n' \"$a\"; done");
        var sink = new CollectingSink();
        string[] args = ["two words", "it's", "$HOME", "; rm -rf /", "", "-lock-timeout=30s"];

        var result = await new ProcessRunner().RunAsync(new ProcessSpec { FileName = script, Arguments = args, WorkingDirectory = dir.Path }, sink, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(args.Select(a => $"<{a}>"), sink.Lines.Where(l => l.Channel == OutputChannel.Stdout).Select(l => l.Line));
    }

    [Fact]
    public async Task Airlocks_own_settings_are_not_inherited_by_tools_but_variables_the_spec_sets_are()
    {
        // e.g. AIRLOCK_DATABASE_URL carries a database password: a plan script must never see it.
        var leaked = "AIRLOCK_TEST_SETTING_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(leaked, "postgres://airlock:secret@db/airlock");
        try
        {
            using var dir = new TempDir();
            var script = Scripts.Write(dir, "env.sh", "env");
            var result = await new ProcessRunner().RunAsync(new ProcessSpec
            {
                FileName = script,
                Arguments = [],
                WorkingDirectory = dir.Path,
                Environment = new Dictionary<string, string> { ["AIRLOCK_STACK"] = "network" },
            }, new CollectingSink(), CancellationToken.None);

            Assert.True(result.Succeeded);
            Assert.DoesNotContain(leaked, result.Stdout, StringComparison.Ordinal);
            Assert.Contains("AIRLOCK_STACK=network", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("PATH=", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(leaked, null);
        }
    }

    [Fact]
    public async Task Working_directory_environment_and_exit_code_are_those_given()
    {
        using var dir = new TempDir();
        var script = Scripts.Write(dir, "env.sh", "pwd; echo \"plain=$PLAIN\"; echo oops >&2; exit 3");
        var sink = new CollectingSink();

        var result = await new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [],
            WorkingDirectory = dir.Path,
            Environment = new Dictionary<string, string> { ["PLAIN"] = "visible" },
        }, sink, CancellationToken.None);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(Termination.Exited, result.Termination);
        Assert.False(result.Succeeded);
        Assert.Contains(dir.Path, result.Stdout, StringComparison.Ordinal);
        Assert.Contains("plain=visible", result.Stdout, StringComparison.Ordinal);
        Assert.Contains((OutputChannel.Stderr, "oops"), sink.Lines);
    }

    [Fact]
    public async Task Cancellation_sends_SIGINT_and_a_child_that_handles_it_exits_cleanly_before_the_grace_period()
    {
        using var dir = new TempDir();
        var script = Scripts.Write(dir, "graceful.sh",
            "trap 'echo \"SIGINT received, cleaning up\"; exit 130' INT\necho ready\nwhile :; do sleep 0.1; done");
        var sink = new CollectingSink();
        using var cts = new CancellationTokenSource();

        var run = new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [],
            WorkingDirectory = dir.Path,
            GracePeriod = TimeSpan.FromSeconds(15),
        }, sink, cts.Token);
        await sink.WaitForLineAsync(l => l == "ready", Patience);
        await cts.CancelAsync();
        var result = await run;

        Assert.Equal(Termination.Cancelled, result.Termination);
        Assert.False(result.ForceKilled);
        Assert.Contains("SIGINT received, cleaning up", sink.AllText, StringComparison.Ordinal);
        Assert.True(result.Duration < TimeSpan.FromSeconds(15), $"took {result.Duration}");
    }

    [Fact]
    public async Task A_child_that_ignores_SIGINT_is_killed_after_the_grace_period_together_with_its_own_child()
    {
        using var dir = new TempDir();
        var script = Scripts.Write(dir, "stubborn.sh",
            "trap '' INT\nsleep 300 &\necho \"grandchild $!\"\necho ready\nwhile :; do sleep 0.1; done");
        var sink = new CollectingSink();
        using var cts = new CancellationTokenSource();

        var run = new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [],
            WorkingDirectory = dir.Path,
            GracePeriod = TimeSpan.FromMilliseconds(700),
        }, sink, cts.Token);
        await sink.WaitForLineAsync(l => l == "ready", Patience);
        var grandchild = int.Parse(sink.Lines.Single(l => l.Line.StartsWith("grandchild ", StringComparison.Ordinal)).Line["grandchild ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var started = Scripts.StartTime(grandchild);
        Assert.NotNull(started);
        Assert.True(Scripts.IsAlive(grandchild, started));

        await cts.CancelAsync();
        var result = await run;

        Assert.Equal(Termination.Cancelled, result.Termination);
        Assert.True(result.ForceKilled);
        Assert.True(result.Duration >= TimeSpan.FromMilliseconds(700), $"killed before the grace period: {result.Duration}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Scripts.IsAlive(grandchild, started) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.False(Scripts.IsAlive(grandchild, started), $"grandchild {grandchild} survived the tree kill");
    }

    [Fact]
    public async Task A_hanging_child_is_stopped_by_the_timeout_and_reported_as_timed_out()
    {
        using var dir = new TempDir();
        var script = Scripts.Write(dir, "hang.sh", "trap '' INT\necho started\nwhile :; do sleep 0.1; done");
        var sink = new CollectingSink();

        var result = await new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [],
            WorkingDirectory = dir.Path,
            Timeout = TimeSpan.FromMilliseconds(500),
            GracePeriod = TimeSpan.FromMilliseconds(300),
        }, sink, CancellationToken.None);

        Assert.Equal(Termination.TimedOut, result.Termination);
        Assert.Null(result.ExitCode);
        Assert.True(result.ForceKilled);
        Assert.Contains("started", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(sink.Lines, l => l.Channel == OutputChannel.Runner && l.Line.Contains("timeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Secrets_printed_by_a_child_never_reach_the_sink()
    {
        using var dir = new TempDir();
        const string configured = "hunter2-configured-secret";
        const string injected = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        const string keyId = "AKIAIOSFODNN7EXAMPLE";
        const string sessionKeyId = "ASIAQWERTYUIOPASDFGH";
        const string bearer = "eyJhbGciOiJIUzI1NiJ9.payload.signature";
        const string keyBody = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
        var script = Scripts.Write(dir, "leak.sh", $$"""
            echo "secret key: $AWS_SECRET_ACCESS_KEY"
            echo "configured: {{configured}}" >&2
            echo "key id {{keyId}} and {{sessionKeyId}}"
            echo "Authorization: Bearer {{bearer}}"
            echo "-----BEGIN RSA PRIVATE KEY-----"
            echo "{{keyBody}}"
            echo "-----END RSA PRIVATE KEY-----"
            echo "after the key"
            """);
        var sink = new CollectingSink();

        var result = await new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [configured],
            WorkingDirectory = dir.Path,
            CredentialEnvironment = new Dictionary<string, string> { ["AWS_SECRET_ACCESS_KEY"] = injected },
            Secrets = [configured],
        }, sink, CancellationToken.None);

        Assert.True(result.Succeeded);
        foreach (var secret in new[] { configured, injected, keyId, sessionKeyId, bearer, keyBody })
        {
            Assert.DoesNotContain(secret, sink.AllText, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, result.Stdout + result.Stderr, StringComparison.Ordinal);
        }

        Assert.Contains("secret key: [REDACTED]", sink.AllText, StringComparison.Ordinal);
        Assert.Contains("Authorization: Bearer [REDACTED]", sink.AllText, StringComparison.Ordinal);
        Assert.Contains("after the key", sink.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_consumer_reads_stdout_raw_as_it_arrives_and_nothing_is_kept_or_sent_to_the_sink()
    {
        using var dir = new TempDir();
        var script = Scripts.Write(dir, "big.sh", "seq 1 2000000; echo done >&2");
        var sink = new CollectingSink();
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var bytes = 0L;

        var result = await new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [],
            WorkingDirectory = dir.Path,
            StdoutMode = StdoutMode.Consume,
            StdoutConsumer = async (stdout, ct) =>
            {
                var buffer = new byte[8192];
                int read;
                while ((read = await stdout.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    bytes += read;
                }
            },
        }, sink, CancellationToken.None).WaitAsync(Patience);

        var expected = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(1, 2_000_000).Select(i => i + "\n")));
        Assert.True(result.Succeeded);
        Assert.Equal(expected.Length, bytes);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(expected), hash.GetHashAndReset());
        Assert.Equal("", result.Stdout);
        Assert.DoesNotContain(sink.Lines, l => l.Channel == OutputChannel.Stdout);
        Assert.Contains(sink.Lines, l => l.Channel == OutputChannel.Stderr && l.Line == "done");
    }

    [Fact]
    public async Task A_consumer_that_stops_early_still_lets_the_process_write_everything_and_finish()
    {
        using var dir = new TempDir();
        // ~14 MB: far more than a pipe buffer holds. Unread, the writer would block, or die of SIGPIPE
        // when the pipe closes (a tool such as `tofu state pull` would then fail); drained, it finishes.
        var script = Scripts.Write(dir, "big.sh", "seq 1 2000000 || { echo \"seq failed: $?\" >&2; exit 9; }; echo finished >&2");
        var sink = new CollectingSink();

        var result = await new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [],
            WorkingDirectory = dir.Path,
            StdoutMode = StdoutMode.Consume,
            StdoutConsumer = async (stdout, ct) => await stdout.ReadExactlyAsync(new byte[16], ct),
        }, sink, CancellationToken.None).WaitAsync(Patience);

        Assert.True(result.Succeeded, result.Stderr);
        Assert.Contains(sink.Lines, l => l.Channel == OutputChannel.Stderr && l.Line == "finished");
    }

    [Fact]
    public async Task What_a_consumer_throws_is_rethrown_once_the_process_has_exited()
    {
        using var dir = new TempDir();
        var script = Scripts.Write(dir, "out.sh", "seq 1 100000; touch exited");

        await Assert.ThrowsAsync<InvalidDataException>(() => new ProcessRunner().RunAsync(new ProcessSpec
        {
            FileName = script,
            Arguments = [],
            WorkingDirectory = dir.Path,
            StdoutMode = StdoutMode.Consume,
            StdoutConsumer = (_, _) => throw new InvalidDataException("not what was expected"),
        }, new CollectingSink(), CancellationToken.None).WaitAsync(Patience));
        Assert.True(File.Exists(dir.File("exited")));
    }
}
