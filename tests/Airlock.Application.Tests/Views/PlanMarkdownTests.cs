using Airlock.Application.Views;
using Airlock.Domain.Plans;

namespace Airlock.Application.Tests.Views;

/// <summary>The markdown of a plan within a length limit (a GitHub comment holds at most 65,536 characters).</summary>
public sealed class PlanMarkdownTests
{
    private const int GitHubLimit = 65_536;
    private const string Url = "https://airlock.example.com/plans/pln_123";

    [Fact]
    public void A_plan_that_fits_renders_exactly_as_without_a_limit()
    {
        var summary = Summary(creates: 40, deletes: 3, risks: 2);

        var limited = PlanMarkdown.Render(summary, GitHubLimit, Url);

        Assert.Equal(PlanMarkdown.Render(summary), limited);
        Assert.DoesNotContain("Shortened to fit", limited, StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_plan_keeps_counts_risks_first_and_digests_and_says_what_it_left_out()
    {
        var summary = Summary(creates: 3000, deletes: 200, risks: 25);
        Assert.True(PlanMarkdown.Render(summary).Length > 2 * GitHubLimit);

        var limited = PlanMarkdown.Render(summary, GitHubLimit, Url);

        Assert.InRange(limited.Length, GitHubLimit - 4000, GitHubLimit);
        Assert.StartsWith("### Plan: 3000 to create, 0 to update, 0 to replace, 200 to delete", limited, StringComparison.Ordinal);
        Assert.Contains("Risks (25)", limited, StringComparison.Ordinal);
        Assert.Contains("aws_db_instance.db24", limited, StringComparison.Ordinal); // every risk fits
        Assert.Contains("aws_db_instance.d199", limited, StringComparison.Ordinal); // deletes come before creates, and all fit

        var shown = limited.Split('\n').Count(line => line.StartsWith("| `aws_s3_bucket.", StringComparison.Ordinal));
        Assert.InRange(shown, 100, 2999);
        Assert.Contains($"| … | | {3000 - shown} more not listed here |", limited, StringComparison.Ordinal);
        Assert.Contains($"> [!NOTE]\n> Shortened to fit: lists {200 + shown} of 3200 changed resources. The whole summary: {Url}", limited, StringComparison.Ordinal);
        Assert.EndsWith($"<sub>summary digest `{PlanSummaryJson.Digest(summary)}`</sub>\n", limited, StringComparison.Ordinal);
    }

    [Fact]
    public void Risks_past_the_limit_are_counted_and_later_sections_show_counts_only()
    {
        var summary = Summary(creates: 50, deletes: 10, risks: 3000);

        var limited = PlanMarkdown.Render(summary, 20_000, fullSummaryUrl: null);

        Assert.True(limited.Length <= 20_000, $"{limited.Length} characters");
        var risksShown = limited.Split('\n').Count(line => line.StartsWith("| `destroy` |", StringComparison.Ordinal));
        Assert.Contains($"| … | | {3000 - risksShown} more risks not listed here |", limited, StringComparison.Ordinal);
        Assert.Contains("**delete** (10): not listed here", limited, StringComparison.Ordinal);
        Assert.Contains("**create** (50): not listed here", limited, StringComparison.Ordinal);
        Assert.Contains($"lists 0 of 60 changed resources and {risksShown} of 3000 risks. The whole summary: `airlock summarize`", limited, StringComparison.Ordinal);
    }

    [Fact]
    public void A_limit_too_small_for_the_essentials_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PlanMarkdown.Render(Summary(1, 0, 0), 1000, Url));
    }

    private static PlanSummary Summary(int creates, int deletes, int risks) => new()
    {
        Engine = "terraform",
        FormatVersion = "1.2",
        Resources =
        [
            .. Enumerable.Range(0, creates).Select(i => new ResourceChange { Address = $"aws_s3_bucket.b{i:D4}", Type = "aws_s3_bucket", Action = PlanAction.Create }),
            .. Enumerable.Range(0, deletes).Select(i => new ResourceChange { Address = $"aws_db_instance.d{i:D3}", Type = "aws_db_instance", Action = PlanAction.Delete }),
        ],
        Risks = [.. Enumerable.Range(0, risks).Select(i => new RiskFinding("destroy", $"aws_db_instance.db{i}", "aws_db_instance is destroyed; stateful: its data goes with it"))],
    };
}
