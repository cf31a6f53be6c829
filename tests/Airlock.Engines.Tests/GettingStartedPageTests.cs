using System.Text.RegularExpressions;

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

    /// <summary>Path → content of every <c>cat &gt; PATH &lt;&lt;'EOF'</c> … <c>EOF</c> block.</summary>
    private static Dictionary<string, string> FilesOnPage(string page) =>
        FileBlock().Matches(page.ReplaceLineEndings("\n")).ToDictionary(m => m.Groups["path"].Value, m => m.Groups["body"].Value, StringComparer.Ordinal);

    [GeneratedRegex(@"^cat > (?<path>\S+) <<'EOF'\n(?<body>.*?)^EOF$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FileBlock();
}
