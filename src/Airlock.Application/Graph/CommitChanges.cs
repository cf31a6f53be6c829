using Airlock.Application.Source;

namespace Airlock.Application.Graph;

/// <summary>The files a commit brings, and what it was compared with.</summary>
/// <param name="RepositoryRoot">The repository's top-level directory; <see cref="Files"/> are relative to it.</param>
/// <param name="Commit">The commit's full sha.</param>
/// <param name="Base">The reference compared with (a branch, a ref, or the commit's parent), or null for a root commit.</param>
/// <param name="Comparison">How the files were found, for people: "main...1a2b3c4 (since it left main)".</param>
/// <param name="Files">Changed files, repository-relative with '/'.</param>
public sealed record CommitChangeSet(string RepositoryRoot, string Commit, string? Base, string Comparison, IReadOnlyList<string> Files);

/// <summary>
/// Finds what a commit changed: against an explicit base (<c>git diff BASE...COMMIT</c>), else since it left
/// the base branch (origin's default, main or master), else — when the commit is on the base branch or there is
/// none — what the commit itself changed against its parent.
/// </summary>
public static class CommitChanges
{
    /// <summary>
    /// The change set of <paramref name="commit"/> (default HEAD). Unknown commits or refs, or a directory
    /// outside a git repository, are a <see cref="UserInputException"/>.
    /// </summary>
    public static async Task<CommitChangeSet> FindAsync(string directory, string? commit, string? baseReference, CancellationToken cancellationToken)
    {
        var git = new GitRepository(directory);
        var root = await git.TopLevelAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new UserInputException($"{directory} is not in a git repository: changed stacks come from git (use --all to select every stack)");
        var sha = await git.ResolveAsync(commit ?? "HEAD", cancellationToken).ConfigureAwait(false)
            ?? throw new UserInputException(commit is null ? "the repository has no commit yet (use --all to select every stack)" : $"unknown commit '{commit}'");
        var shortSha = sha[..Math.Min(7, sha.Length)];

        if (baseReference is not null)
        {
            _ = await git.ResolveAsync(baseReference, cancellationToken).ConfigureAwait(false)
                ?? throw new UserInputException($"unknown base ref '{baseReference}'");
            var files = await git.ChangedFilesAsync(baseReference, sha, cancellationToken).ConfigureAwait(false);
            return new CommitChangeSet(root, sha, baseReference, $"{baseReference}...{shortSha}", files);
        }

        if (await git.BaseBranchAsync(cancellationToken).ConfigureAwait(false) is { } branch
            && await git.MergeBaseAsync(branch, sha, cancellationToken).ConfigureAwait(false) is { } mergeBase
            && mergeBase != sha)
        {
            var files = await git.ChangedFilesAsync(branch, sha, cancellationToken).ConfigureAwait(false);
            return new CommitChangeSet(root, sha, branch, $"{branch}...{shortSha} (since it left {branch} at {mergeBase[..Math.Min(7, mergeBase.Length)]})", files);
        }

        // On the base branch itself (or with none), "what this commit would run" is what the commit changed.
        var parent = await git.ResolveAsync(sha + "^1", cancellationToken).ConfigureAwait(false);
        var own = await git.FilesChangedByAsync(sha, cancellationToken).ConfigureAwait(false);
        return parent is null
            ? new CommitChangeSet(root, sha, null, $"{shortSha} (the first commit: every file is new)", own)
            : new CommitChangeSet(root, sha, parent, $"{parent[..Math.Min(7, parent.Length)]}..{shortSha} (the commit against its parent)", own);
    }
}
