namespace Airlock.Testing;

/// <summary>Locates the repository and the shared fixtures from wherever a test runs.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root (the folder holding global.json).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared folder beside the repository (../shared), as CI lays it out.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>../shared/fixtures.</summary>
    public static string Fixtures => Path.Combine(Shared, "fixtures");

    /// <summary>A path inside ../shared/fixtures.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "global.json")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (global.json) above " + AppContext.BaseDirectory);
    }
}
