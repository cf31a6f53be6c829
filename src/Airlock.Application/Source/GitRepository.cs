using System.Text;

using CliWrap;
using CliWrap.Buffered;

namespace Airlock.Application.Source;

/// <summary>The source a plan was made from.</summary>
/// <param name="Repository">origin's URL, else the repository's root path.</param>
/// <param name="Commit">HEAD's full sha.</param>
/// <param name="Branch">The checked-out branch, or null when detached.</param>
/// <param name="Dirty">True when tracked or untracked files differ from HEAD.</param>
public sealed record SourceSnapshot(string Repository, string Commit, string? Branch, bool Dirty);

/// <summary>Reads facts from git (the real CLI): commit, branch, cleanliness, ancestry.</summary>
public sealed class GitRepository(string directory)
{
    /// <summary>HEAD, branch, remote and cleanliness; a <see cref="UserInputException"/> outside a repository or before the first commit.</summary>
    public async Task<SourceSnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        var commit = await TryGitAsync(["rev-parse", "--verify", "HEAD"], cancellationToken).ConfigureAwait(false)
            ?? throw new UserInputException($"{directory} is not a git repository with a commit: plans are bound to a commit (git init, git add, git commit)");
        var branch = await TryGitAsync(["symbolic-ref", "--short", "-q", "HEAD"], cancellationToken).ConfigureAwait(false);
        var remote = await TryGitAsync(["remote", "get-url", "origin"], cancellationToken).ConfigureAwait(false);
        var root = await TryGitAsync(["rev-parse", "--show-toplevel"], cancellationToken).ConfigureAwait(false) ?? directory;
        // Airlock's own working files (.airlock/) are ignored by the status check: they are not source.
        var status = await TryGitAsync(["status", "--porcelain", "--", ".", ":(exclude).airlock"], cancellationToken).ConfigureAwait(false) ?? string.Empty;
        return new SourceSnapshot(string.IsNullOrEmpty(remote) ? root : remote, commit, string.IsNullOrEmpty(branch) ? null : branch, status.Length > 0);
    }

    /// <summary>
    /// The base branch to compare with: origin's default branch when known, else a local main or master.
    /// Null when none exists (then "base current" cannot be checked and is reported so).
    /// </summary>
    public async Task<string?> BaseBranchAsync(CancellationToken cancellationToken)
    {
        if (await TryGitAsync(["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"], cancellationToken).ConfigureAwait(false) is { Length: > 0 } originHead)
        {
            return originHead;
        }

        foreach (var candidate in new[] { "main", "master" })
        {
            if (await TryGitAsync(["rev-parse", "--verify", "-q", "refs/heads/" + candidate], cancellationToken).ConfigureAwait(false) is { Length: > 0 })
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The sha <paramref name="reference"/> points at, or null.</summary>
    public Task<string?> ResolveAsync(string reference, CancellationToken cancellationToken) =>
        TryGitAsync(["rev-parse", "--verify", "-q", reference + "^{commit}"], cancellationToken);

    /// <summary>True when <paramref name="ancestor"/> is reachable from <paramref name="commit"/>.</summary>
    public async Task<bool> IsAncestorAsync(string ancestor, string commit, CancellationToken cancellationToken)
    {
        var result = await Cli.Wrap("git").WithArguments(["merge-base", "--is-ancestor", ancestor, commit]).WithWorkingDirectory(directory)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(Encoding.UTF8, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0;
    }

    /// <summary>git's configured user.email, or null.</summary>
    public static string? UserEmail(string directory)
    {
        try
        {
            var result = Cli.Wrap("git").WithArguments(["config", "user.email"]).WithWorkingDirectory(directory)
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync().GetAwaiter().GetResult();
            return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed
        }
    }

    private async Task<string?> TryGitAsync(string[] arguments, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Cli.Wrap("git").WithArguments(arguments).WithWorkingDirectory(directory)
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(Encoding.UTF8, cancellationToken).ConfigureAwait(false);
            return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new UserInputException("git is not installed: Airlock binds plans to git commits");
        }
    }
}
