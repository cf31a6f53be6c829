using System.Diagnostics;

namespace Airlock.Testing;

/// <summary>A real git repository in a temp directory (branch main), driven by the real git CLI.</summary>
public sealed class GitHistory : IDisposable
{
    private readonly TempDir _dir = new("airlock-graph-git");

    public GitHistory()
    {
        Git("init", "-q", "-b", "main");
    }

    public string Root => _dir.Path;

    public void Write(string path, string content) => _dir.Write(path, content);

    public void Delete(string path) => File.Delete(_dir.File(path));

    /// <summary>Stages everything and commits; returns the new commit's sha.</summary>
    public string Commit(string message)
    {
        Git("add", "-A");
        Git("-c", "user.name=Test Author", "-c", "user.email=author@example.com", "commit", "-q", "--allow-empty", "-m", message);
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

    public void Dispose() => _dir.Dispose();
}
