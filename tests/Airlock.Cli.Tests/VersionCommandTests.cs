using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

using Airlock.Testing;

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
    public async Task The_version_option_prints_the_version_and_the_commit_it_was_built_from()
    {
        // The SDK stamps the commit into the informational version (SourceRevisionId, from git) at build time;
        // dotnet test builds first, so the CLI under test was built from the repository's HEAD.
        var head = GitHead(RepoPaths.RepoRoot);

        var result = await CliRunner.RunAsync("--version");

        Assert.True(result.ExitCode == 0, result.ToString());
        var match = Regex.Match(result.Stdout.Trim(), @"^(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\+([0-9a-f]{40})$");
        Assert.True(match.Success, $"not VERSION+COMMIT: '{result.Stdout.Trim()}'");
        Assert.Equal(AssemblyName.GetAssemblyName(Path.Combine(AppContext.BaseDirectory, "airlock.dll")).Version!.ToString(3), match.Groups[1].Value);
        Assert.Equal(head, match.Groups[2].Value);
    }

    [Fact]
    public async Task Unknown_command_exits_non_zero()
    {
        var result = await CliRunner.RunAsync("no-such-command");

        Assert.NotEqual(0, result.ExitCode);
    }

    private static string GitHead(string repository)
    {
        using var git = Process.Start(new ProcessStartInfo("git", ["-C", repository, "rev-parse", "HEAD"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = git.StandardOutput.ReadToEnd();
        git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"{repository} is not a git checkout: this test needs the commit the CLI was built from");
        return stdout.Trim();
    }
}
