using Airlock.Testing;

using Markdig;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Airlock.Cli.Tests;

/// <summary>
/// The docs stay true: the generated references equal what the code generates, and every relative link and
/// anchor in README.md, docs/ and examples/ resolves (external links are not fetched: the CI machine has no
/// general internet access).
/// </summary>
public sealed class DocsTests
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    [Theory]
    [InlineData("cli", "cli.md")]
    [InlineData("config", "configuration-reference.md")]
    public async Task Generated_references_equal_the_committed_docs(string what, string file)
    {
        var result = await CliRunner.RunAsync("docs", what);
        Assert.True(result.ExitCode == 0, result.ToString());
        var committed = await File.ReadAllTextAsync(Path.Combine(RepoPaths.RepoRoot, "docs", file));
        // If this fails after changing commands or the config schema: `dotnet run --project src/Airlock.Cli -- docs {what} > docs/{file}`.
        Assert.Equal(committed, result.Stdout);
    }

    [Fact]
    public void Every_relative_link_and_anchor_in_the_docs_resolves()
    {
        var root = RepoPaths.RepoRoot;
        var files = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "examples"), "*.md", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}.airlock{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(files, f => f.EndsWith("cli.md", StringComparison.Ordinal));
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var file in files)
        {
            foreach (var (target, line) in Links(file))
            {
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                checkedLinks++;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var pathPart = hash >= 0 ? target[..hash] : target;
                var anchor = hash >= 0 ? target[(hash + 1)..] : null;
                var resolved = pathPart.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(pathPart)));
                var where = $"{Path.GetRelativePath(root, file)}:{line}: {target}";
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    broken.Add(where + " (no such file)");
                }
                else if (anchor is { Length: > 0 } && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(resolved).Contains(anchor))
                {
                    broken.Add(where + " (no such heading)");
                }
            }
        }

        Assert.True(checkedLinks > 20, $"only {checkedLinks} relative links found: is the scan broken?");
        Assert.True(broken.Count == 0, "broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void The_link_checker_catches_a_broken_link_and_a_missing_anchor()
    {
        using var dir = new TempDir("airlock-docs");
        var page = Path.Combine(dir.Path, "page.md");
        File.WriteAllText(page, "# Title\n\n## Real heading\n\n[ok](#real-heading) [bad](#nope) [missing](other.md) `[code](ignored.md)`\n");
        Assert.Equal(["#real-heading", "#nope", "other.md"], Links(page).Select(l => l.Target));
        Assert.Contains("real-heading", Anchors(page));
        Assert.DoesNotContain("nope", Anchors(page));
    }

    private static IEnumerable<(string Target, int Line)> Links(string file)
    {
        var document = Markdown.Parse(File.ReadAllText(file), Pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            if (link.Url is { Length: > 0 } url)
            {
                yield return (url, link.Line + 1);
            }
        }
    }

    private static HashSet<string> Anchors(string file)
    {
        var document = Markdown.Parse(File.ReadAllText(file), Pipeline);
        return document.Descendants<HeadingBlock>().Select(h => h.GetAttributes().Id).OfType<string>().ToHashSet(StringComparer.Ordinal);
    }
}
