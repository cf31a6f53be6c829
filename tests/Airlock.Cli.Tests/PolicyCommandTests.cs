using Airlock.Testing;

namespace Airlock.Cli.Tests;

public class PolicyCommandTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public async Task Policy_test_reports_each_case_and_exits_one_when_an_expectation_fails()
    {
        using var dir = new TempDir();
        dir.Write("policies/no-friday.js", "function evaluate(i) { return new Date().getUTCDay() === 5 ? { result: 'fail', message: 'no Friday applies' } : 'pass'; }");
        dir.Write("policies/no-friday.test.json", """
            { "rule": "no-friday", "cases": [
              { "name": "friday is refused", "now": "2026-11-27T10:00:00Z", "input": {}, "expect": "fail", "message_contains": "Friday" },
              { "name": "thursday is fine", "now": "2026-11-26T10:00:00Z", "input": {}, "expect": "pass" }
            ] }
            """);

        var ok = await CliRunner.RunAsync(dir.Path, NoEnv, "policy", "test");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("PASS no-friday / friday is refused", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 passed, 0 failed", ok.Stdout, StringComparison.Ordinal);

        dir.Write("policies/no-friday.test.json", """{ "rule": "no-friday", "cases": [ { "name": "wrong", "now": "2026-11-27T10:00:00Z", "input": {}, "expect": "pass" } ] }""");
        var failing = await CliRunner.RunAsync(dir.Path, NoEnv, "policy", "test", "policies");
        Assert.Equal(1, failing.ExitCode);
        Assert.Contains("FAIL no-friday / wrong: expected pass, got fail: no Friday applies", failing.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_test_on_a_missing_folder_is_a_one_line_error()
    {
        using var dir = new TempDir();

        var result = await CliRunner.RunAsync(dir.Path, NoEnv, "policy", "test", "nowhere");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("airlock: custom policy folder not found: nowhere", result.Stderr.Trim());
    }
}
