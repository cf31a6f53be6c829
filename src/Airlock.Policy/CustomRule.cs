namespace Airlock.Policy;

/// <summary>
/// One custom rule: a JavaScript file in the workspace's custom policy folder that defines
/// <c>function evaluate(input)</c>. Its id is the file name without the extension.
/// </summary>
public sealed record CustomRule(string Id, string SourcePath, string Source)
{
    /// <summary>Loads every <c>*.js</c> file of <paramref name="directory"/>, ordered by id.</summary>
    public static IReadOnlyList<CustomRule> LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new PolicyException($"custom policy folder not found: {directory}");
        }

        return [.. Directory.EnumerateFiles(directory, "*.js", SearchOption.TopDirectoryOnly)
            .Select(path => new CustomRule(Path.GetFileNameWithoutExtension(path), path, File.ReadAllText(path)))
            .OrderBy(r => r.Id, StringComparer.Ordinal)];
    }
}

/// <summary>A user error in policy files or policy tests: reported as one line, never a stack trace.</summary>
public sealed class PolicyException : Exception
{
    public PolicyException(string message)
        : base(message)
    {
    }

    public PolicyException()
    {
    }

    public PolicyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
