namespace Airlock.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    public async Task The_demo_runs_every_step_green_and_leaves_nothing_behind()
    {
        var before = Directory.GetDirectories(Path.GetTempPath(), "airlock-demo-*").ToHashSet();

        var result = await CliRunner.RunAsync("demo");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(4, result.Stdout.Split('\n').Count(line => line.StartsWith("✓ exit", StringComparison.Ordinal)));
        Assert.DoesNotContain("✗", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("airlock.yaml: valid (3 environments, 4 stacks, 1 applications, 2 queues)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("12 to create, 1 to update", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("material delta: new approval required", result.Stdout, StringComparison.Ordinal);

        // The example plan carries a database password in clear; the demo must never print it.
        Assert.DoesNotContain("YourPwdShouldBeLongAndSecure", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetTempPath(), "airlock-demo-*"), d => !before.Contains(d));
    }
}
