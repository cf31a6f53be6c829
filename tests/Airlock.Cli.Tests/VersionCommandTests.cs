namespace Airlock.Cli.Tests;

public class VersionCommandTests
{
    [Fact]
    public async Task Version_prints_the_tool_name_and_exits_zero()
    {
        var result = await CliRunner.RunAsync("version");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("airlock ", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_exits_non_zero()
    {
        var result = await CliRunner.RunAsync("no-such-command");

        Assert.NotEqual(0, result.ExitCode);
    }
}
