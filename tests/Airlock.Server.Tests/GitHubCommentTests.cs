using Airlock.Server.GitHub;

namespace Airlock.Server.Tests;

/// <summary>Every comment goes through <see cref="GitHubClient.FitComment"/>: GitHub refuses bodies over 65,536 characters.</summary>
public sealed class GitHubCommentTests
{
    [Fact]
    public void A_comment_within_the_limit_is_sent_as_written()
    {
        var body = new string('x', GitHubClient.MaxCommentLength);

        Assert.Same(body, GitHubClient.FitComment(body));
    }

    [Fact]
    public void A_longer_comment_is_cut_to_the_limit_and_says_so()
    {
        var body = "#### Airlock approvals\n\n" + string.Concat(Enumerable.Range(0, 5000).Select(i => $"- approved plan `pln_{i:D5}`\n"));

        var fitted = GitHubClient.FitComment(body);

        Assert.Equal(GitHubClient.MaxCommentLength, fitted.Length);
        Assert.StartsWith(body[..60_000], fitted, StringComparison.Ordinal);
        Assert.EndsWith("_… cut at GitHub's 65,536-character limit._\n", fitted, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cut_never_splits_a_character_made_of_two_UTF16_units()
    {
        // An emoji (a surrogate pair) straddling the cut point.
        var cutAt = GitHubClient.MaxCommentLength - "\n\n_… cut at GitHub's 65,536-character limit._\n".Length;
        var body = new string('x', cutAt - 1) + "\U0001F680" + new string('y', 100);

        var fitted = GitHubClient.FitComment(body);

        Assert.True(fitted.Length <= GitHubClient.MaxCommentLength);
        Assert.False(fitted.Any(char.IsSurrogate), "half of the emoji was kept");
    }
}
