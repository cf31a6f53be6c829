namespace Airlock.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    public async Task The_demo_runs_every_step_green_and_leaves_nothing_behind()
    {
        var before = Directory.GetDirectories(Path.GetTempPath(), "airlock-demo-*").ToHashSet();

        var result = await CliRunner.RunAsync("demo");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(15, result.Stdout.Split('\n').Count(line => line.StartsWith("✓ exit", StringComparison.Ordinal)));
        Assert.DoesNotContain("✗", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("airlock.yaml: valid (3 environments, 4 stacks, 1 applications, 2 queues)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("12 to create, 1 to update", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("material delta: new approval required", result.Stdout, StringComparison.Ordinal);

        // The governed change: dev applied, prod refused until approved by platform and security, evidence intact.
        Assert.Contains("✔ applied: site in dev: 2 added", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("✖ refused: policy denies the apply: [approvals] needs 2 approval(s), has 0", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("cannot approve it (separation of duties)", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Approvals are complete (bob@example.com, carol@example.com)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("✔ applied: site in prod: 2 added", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("signed checkpoints verified", result.Stdout, StringComparison.Ordinal);

        // The example plan carries a database password in clear; the demo must never print it.
        Assert.DoesNotContain("YourPwdShouldBeLongAndSecure", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetTempPath(), "airlock-demo-*"), d => !before.Contains(d));
    }
}
