using System.Text.RegularExpressions;

using Airlock.Domain.Config;
using Airlock.Testing;

namespace Airlock.Engines.Tests;

/// <summary>
/// docs/getting-started.md shows every file of examples/getting-started inline, as
/// <c>cat &gt; PATH &lt;&lt;'EOF'</c> blocks a reader pastes into a shell; the page and the example must not drift apart.
/// </summary>
public sealed partial class GettingStartedPageTests
{
    private static readonly string Example = Path.Combine(RepoPaths.RepoRoot, "examples", "getting-started");

    [Fact]
    public void Every_file_of_the_example_is_on_the_page_byte_for_byte_and_the_page_has_no_other_files()
    {
        var onPage = FilesOnPage(File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "docs", "getting-started.md")));
        var inExample = Directory.EnumerateFiles(Example, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Example, path).Replace('\\', '/'))
            .Where(path => !path.StartsWith("target/", StringComparison.Ordinal) && !path.StartsWith(".airlock/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(inExample, onPage.Keys.Order(StringComparer.Ordinal));
        Assert.All(inExample, path => Assert.True(
            File.ReadAllText(Path.Combine(Example, path)) == onPage[path],
            $"docs/getting-started.md shows a different {path} than examples/getting-started/{path}"));
    }

    [Fact]
    public void A_file_block_that_differs_from_the_example_is_noticed()
    {
        var page = "```sh\ncat > stacks/site/serial.sh <<'EOF'\n#!/bin/sh\necho 7\nEOF\n```\n";

        var onPage = FilesOnPage(page);

        Assert.Equal("#!/bin/sh\necho 7\n", onPage["stacks/site/serial.sh"]);
        Assert.NotEqual(File.ReadAllText(Path.Combine(Example, "stacks", "site", "serial.sh")), onPage["stacks/site/serial.sh"]);
    }

    [Fact]
    public void The_example_airlock_yaml_is_valid_and_sets_up_the_walkthrough_the_page_describes()
    {
        var result = WorkspaceConfigLoader.Load(File.ReadAllText(Path.Combine(Example, "airlock.yaml")), "airlock.yaml");

        Assert.True(result.IsValid, string.Join('\n', result.Diagnostics));
        var config = result.Config!;
        var dev = config.Environments.Single(e => e.Name == "dev");
        var prod = config.Environments.Single(e => e.Name == "prod");
        var site = Assert.Single(config.Stacks);
        Assert.Equal("getting-started", config.Project);
        Assert.Equal(0, dev.Approvals.Required);
        Assert.Equal(PlanMode.Replan, dev.Plan.Mode);
        Assert.Equal(2, prod.Approvals.Required);
        Assert.Equal(["platform", "security"], prod.Approvals.Roles.ToArray());
        Assert.True(prod.Approvals.SeparationOfDuties);
        Assert.Equal(PlanMode.Saved, prod.Plan.Mode);
        Assert.Equal(TimeSpan.FromHours(1), prod.Plan.MaxAge);
        Assert.Equal(DestroyDefault.Deny, prod.Destroy.Default);
        Assert.Null(prod.Windows); // the walkthrough must work at any hour
        Assert.Empty(prod.Freezes);
        Assert.Equal(("site", "stacks/site"), (site.Name, site.Path));
        Assert.Equal(new CommandEngineConfig("./plan.sh", "./apply.sh", "./serial.sh", "./outputs.sh"), site.Command);
        Assert.Equal([new CommandCheck("./verify.sh", TimeSpan.FromMinutes(5), Retries: 0, Interval: TimeSpan.FromSeconds(10)), new DriftCheck()], site.Verify.ToArray());
    }

    /// <summary>Path → content of every <c>cat &gt; PATH &lt;&lt;'EOF'</c> … <c>EOF</c> block.</summary>
    private static Dictionary<string, string> FilesOnPage(string page) =>
        FileBlock().Matches(page.ReplaceLineEndings("\n")).ToDictionary(m => m.Groups["path"].Value, m => m.Groups["body"].Value, StringComparer.Ordinal);

    [GeneratedRegex(@"^cat > (?<path>\S+) <<'EOF'\n(?<body>.*?)^EOF$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FileBlock();
}
