using System.Diagnostics;

namespace Airlock.Testing;

/// <summary>A real git repository (branch main), driven by the real git CLI: in its own temp directory, or in one a test already made.</summary>
public sealed class GitHistory : IDisposable
{
    private readonly TempDir? _dir;

    /// <summary>A new repository in a temp directory that this instance deletes on dispose.</summary>
    public GitHistory()
    {
        _dir = new TempDir("airlock-graph-git");
        Root = _dir.Path;
        Git("init", "-q", "-b", "main");
    }

    /// <summary>A new repository in <paramref name="directory"/>, which stays the caller's to delete.</summary>
    public GitHistory(string directory)
    {
        Root = directory;
        Git("init", "-q", "-b", "main");
    }

    public string Root { get; }

    public void Write(string path, string content)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
    }

    public void Delete(string path) => File.Delete(Path.Combine(Root, path));

    /// <summary>Stages everything and commits; returns the new commit's sha.</summary>
    public string Commit(string message)
    {
        Git("add", "-A");
        Git("-c", "user.name=Test Author", "-c", "user.email=author@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", message);
        return Git("rev-parse", "HEAD");
    }

    public string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git")
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {stderr}");
        }

        return stdout.Result.Trim();
    }

    public void Dispose() => _dir?.Dispose();
}
