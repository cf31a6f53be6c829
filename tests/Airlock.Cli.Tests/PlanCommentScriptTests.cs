using System.Diagnostics;
using System.Text.RegularExpressions;

using Airlock.Testing;

namespace Airlock.Cli.Tests;

/// <summary>
/// examples/ci/plan-comment.sh run for real, as a pull-request job runs it: git, jq and this build's
/// airlock on PATH, in a repository whose feature branch changes a command-engine stack. The stack's
/// plan script deletes as many database instances as its `count` file says, so every delete is a
/// `destroy` risk: a few show whole, thousands must still fit a GitHub comment (65,536 characters).
/// </summary>
public sealed partial class PlanCommentScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(RepoPaths.RepoRoot, "examples", "ci", "plan-comment.sh");

    private readonly GitHistory _repo = new();
    private readonly TempDir _bin = new("airlock-shim");
    private readonly TempDir _out = new("airlock-ci-out");

    public PlanCommentScriptTests()
    {
        CliRunner.WriteShim(_bin.Path);
        _repo.Write(".gitignore", ".airlock/\n");
        _repo.Write("airlock.yaml", """
            version: 1
            project: comment-test
            defaults:
              engine: command
            environments:
              dev:
                approvals: { required: 0 }
            stacks:
              app:
                path: stacks/app
                command:
                  plan: ./plan.sh
                  apply: "true"
            """);
        _repo.Write("stacks/app/plan.sh", """
            #!/bin/sh
            awk -v n="$(cat count)" 'BEGIN {
              printf "{\"format_version\":\"1.2\",\"resource_changes\":["
              for (i = 0; i < n; i++)
                printf "%s{\"address\":\"aws_db_instance.db%d\",\"mode\":\"managed\",\"type\":\"aws_db_instance\",\"name\":\"db%d\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"change\":{\"actions\":[\"delete\"],\"before\":{\"identifier\":\"db%d\"},\"after\":null}}", (i ? "," : ""), i, i, i
              print "]}"
            }' > "$AIRLOCK_PLAN_JSON"
            echo plan > "$AIRLOCK_PLAN_FILE"
            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(_repo.Root, "stacks", "app", "plan.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        _repo.Write("stacks/app/count", "0\n");
        _repo.Commit("first");
        _repo.Git("checkout", "-q", "-b", "feature");
    }

    public void Dispose()
    {
        _repo.Dispose();
        _bin.Dispose();
        _out.Dispose();
    }

    [GeneratedRegex("^- risk `destroy` on `aws_db_instance\\.db[0-9]+`: aws_db_instance is destroyed$")]
    private static partial Regex RiskLine();

    [Fact]
    public async Task A_small_plan_shows_its_counts_and_every_risk()
    {
        var head = Delete(3);

        var (exitCode, output) = await RunScriptAsync();

        Assert.True(exitCode == 0, output);
        var comment = await File.ReadAllTextAsync(Path.Combine(_out.Path, "plan-comment.md"));
        Assert.StartsWith($"### Airlock plan for {head[..7]} (compared with main)\n\n#### app in dev: policy allow\n\n", comment, StringComparison.Ordinal);
        Assert.Matches(@"\ncreate 0 · update 0 · replace 0 · delete 3 · plan `plan-[0-9a-f]+`\n", comment);
        Assert.Equal(["db0", "db1", "db2"], RiskLines(comment).Select(l => l.Split('`')[3]["aws_db_instance.".Length..]));
        Assert.DoesNotContain("not shown", comment, StringComparison.Ordinal);
        Assert.Equal(comment, await File.ReadAllTextAsync(Path.Combine(_out.Path, "plan-comment-full.md")));
    }

    [Fact]
    public async Task Thousands_of_risks_are_listed_up_to_the_cap_and_the_comment_fits_github()
    {
        Delete(3000);

        // The default: each plan lists its first 25 risks and counts the rest.
        var (exitCode, output) = await RunScriptAsync();

        Assert.True(exitCode == 0, output);
        var comment = await File.ReadAllTextAsync(Path.Combine(_out.Path, "plan-comment.md"));
        Assert.Equal(25, RiskLines(comment).Count);
        Assert.Contains("\n- … and 2975 more not shown (all in plan-app-dev.json)\n", comment, StringComparison.Ordinal);
        Assert.Contains("delete 3000", comment, StringComparison.Ordinal);

        // Every risk asked for: ~150 KB of text, cut at a whole line under the byte limit, saying so at the top.
        (exitCode, output) = await RunScriptAsync(new() { ["AIRLOCK_COMMENT_MAX_ITEMS"] = "5000" });

        Assert.True(exitCode == 0, output);
        var full = await File.ReadAllTextAsync(Path.Combine(_out.Path, "plan-comment-full.md"));
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_out.Path, "plan-comment.md"));
        comment = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.Equal(3000, RiskLines(full).Count);
        Assert.True(bytes.Length is > 50_000 and <= 60_000, $"{bytes.Length} bytes");
        var lines = comment.Split('\n');
        Assert.StartsWith("### Airlock plan for ", lines[0], StringComparison.Ordinal);
        Assert.Equal($"> **Shortened to fit a comment** (the whole text is {new FileInfo(Path.Combine(_out.Path, "plan-comment-full.md")).Length} bytes): plan-comment-full.md and each plan's JSON, in the CI job's plan files, have everything.", lines[2]);
        var risks = RiskLines(comment);
        Assert.InRange(risks.Count, 500, 2999);
        Assert.Equal(full.Split('\n').Where(l => RiskLine().IsMatch(l)).Take(risks.Count), risks);
        Assert.True(RiskLine().IsMatch(lines[^2]) && lines[^1] == "", "the comment ends with a whole risk line: " + lines[^2]);
    }

    private static List<string> RiskLines(string comment) => [.. comment.Split('\n').Where(l => l.StartsWith("- risk", StringComparison.Ordinal))];

    /// <summary>Commits a plan that deletes <paramref name="count"/> database instances on the feature branch; returns the commit.</summary>
    private string Delete(int count)
    {
        _repo.Write("stacks/app/count", $"{count}\n");
        return _repo.Commit($"delete {count}");
    }

    private async Task<(int ExitCode, string Output)> RunScriptAsync(Dictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("sh") { WorkingDirectory = _repo.Root };
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add("main");
        psi.Environment["PATH"] = _bin.Path + ":" + System.Environment.GetEnvironmentVariable("PATH");
        psi.Environment["AIRLOCK_CI_OUT"] = _out.Path;
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? [])
        {
            psi.Environment[key] = value;
        }

        var result = await CliRunner.RunProcessAsync(psi);
        return (result.ExitCode, $"exit {result.ExitCode}\n--- stdout\n{result.Stdout}\n--- stderr\n{result.Stderr}");
    }
}
