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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> commitTimes = new(StringComparer.Ordinal);

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

    /// <summary>The repository's top-level directory (symlinks resolved), or null outside a repository.</summary>
    public Task<string?> TopLevelAsync(CancellationToken cancellationToken) =>
        TryGitAsync(["rev-parse", "--show-toplevel"], cancellationToken);

    /// <summary>The best common ancestor of two commits, or null when they share none.</summary>
    public Task<string?> MergeBaseAsync(string first, string second, CancellationToken cancellationToken) =>
        TryGitAsync(["merge-base", first, second], cancellationToken);

    /// <summary>
    /// Files changed on <paramref name="commit"/> since it left <paramref name="baseReference"/>
    /// (<c>git diff --name-only BASE...COMMIT</c>, i.e. against their merge-base), repository-relative with '/'.
    /// Renames count as a delete and an add, so both directories see the change.
    /// </summary>
    public Task<IReadOnlyList<string>> ChangedFilesAsync(string baseReference, string commit, CancellationToken cancellationToken) =>
        NameListAsync(["diff", "--name-only", "--no-renames", "-z", baseReference + "..." + commit, "--"], cancellationToken);

    /// <summary>Files <paramref name="commit"/> itself changed against its first parent; every file of a root commit.</summary>
    public async Task<IReadOnlyList<string>> FilesChangedByAsync(string commit, CancellationToken cancellationToken)
    {
        var parent = await ResolveAsync(commit + "^1", cancellationToken).ConfigureAwait(false);
        return parent is null
            ? await NameListAsync(["diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "--no-renames", "-z", commit, "--"], cancellationToken).ConfigureAwait(false)
            : await NameListAsync(["diff", "--name-only", "--no-renames", "-z", parent, commit, "--"], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The highest version tag pointing at <paramref name="commit"/>, or null when it has none.</summary>
    public async Task<string?> TagAtAsync(string commit, CancellationToken cancellationToken)
    {
        var tags = await TryGitAsync(["tag", "--points-at", commit, "--sort=-v:refname"], cancellationToken).ConfigureAwait(false);
        return tags?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
    }

    /// <summary>
    /// When <paramref name="commit"/> was committed (committer date), or null when it is unknown here. A commit's time
    /// never changes, so known ones are remembered (delivery metrics ask for the same commits on every page view).
    /// </summary>
    public async Task<DateTimeOffset?> CommitTimeAsync(string commit, CancellationToken cancellationToken)
    {
        if (commitTimes.TryGetValue(commit, out var known))
        {
            return known;
        }

        var text = await TryGitAsync(["show", "-s", "--format=%cI", commit + "^{commit}", "--"], cancellationToken).ConfigureAwait(false);
        if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at))
        {
            return null; // not remembered: it may be fetched later
        }

        commitTimes[commit] = at;
        return at;
    }

    /// <summary>
    /// A detached worktree of <paramref name="commit"/> at <paramref name="path"/> (reused when it is already one at
    /// that commit); the repository's history is shared, nothing is copied or fetched.
    /// </summary>
    public async Task AddWorktreeAsync(string path, string commit, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            var head = await new GitRepository(path).ResolveAsync("HEAD", cancellationToken).ConfigureAwait(false);
            if (head == commit)
            {
                return;
            }

            throw new UserInputException($"{path} exists but is not a worktree of {commit[..Math.Min(12, commit.Length)]}: remove it (git worktree remove --force {path}) and try again");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _ = await NameListAsync(["worktree", "add", "--detach", path, commit], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches <paramref name="refspecs"/> (e.g. <c>+refs/pull/7/head:refs/airlock/pull/7</c>) from <paramref name="remote"/>;
    /// a one-line <see cref="UserInputException"/> when git cannot (unknown remote, missing ref, network).
    /// </summary>
    public async Task FetchAsync(string remote, IReadOnlyList<string> refspecs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refspecs);
        // --no-tags: only what was asked for; -- ends options so a remote name cannot smuggle one in.
        _ = await NameListAsync(["fetch", "--no-tags", "--quiet", "--", remote, .. refspecs], cancellationToken).ConfigureAwait(false);
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

    // -z output: NUL-separated, unquoted, untrimmed (a file name may start with a space).
    private async Task<IReadOnlyList<string>> NameListAsync(string[] arguments, CancellationToken cancellationToken)
    {
        BufferedCommandResult result;
        try
        {
            result = await Cli.Wrap("git").WithArguments(arguments).WithWorkingDirectory(directory)
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(Encoding.UTF8, cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new UserInputException("git is not installed: Airlock binds plans to git commits");
        }

        if (result.ExitCode != 0)
        {
            var reason = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? $"exit code {result.ExitCode}";
            throw new UserInputException($"git {arguments[0]} failed: {reason}");
        }

        return result.StandardOutput.Split('\0', StringSplitOptions.RemoveEmptyEntries);
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
