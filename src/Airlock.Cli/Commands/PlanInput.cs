using System.CommandLine;
using Airlock.Domain.Config;
using Airlock.Domain.Plans;

namespace Airlock.Cli.Commands;

/// <summary>Opens a plan file for the plan commands and turns every failure into the one-line CLI error.</summary>
internal static class PlanInput
{
    /// <summary>The <c>--config</c> option: resource classes come from this airlock.yaml instead of the built-in map.</summary>
    public static Option<string?> ConfigOption() => new("--config")
    {
        Description = "airlock.yaml whose resource_classes classify resources for the risk rules (default: the built-in map).",
    };

    /// <summary>
    /// The resource classes to use: the workspace's when <paramref name="configPath"/> is given, else the
    /// built-in map. On failure writes one line and returns null.
    /// </summary>
    public static ResourceClassMap? TryClasses(string? configPath)
    {
        if (configPath is null)
        {
            return ResourceClassMap.Default;
        }

        // As `airlock validate DIR` reads it: a workspace directory means its airlock.yaml.
        if (ValidateCommand.TryReadConfig(ref configPath) is not { } text)
        {
            return null;
        }

        var loaded = WorkspaceConfigLoader.Load(text, configPath);
        if (!loaded.IsValid)
        {
            Console.Error.WriteLine($"airlock: {loaded.Diagnostics[0]} (and {loaded.Diagnostics.Length - 1} more; run `airlock validate`)");
            return null;
        }

        return new ResourceClassMap(loaded.Config!.ResourceClasses.Select(c => KeyValuePair.Create(c.Name, (IEnumerable<string>)c.ResourceTypes)));
    }

    /// <summary>Reads and summarises <paramref name="path"/>; on failure writes "airlock: file:line:col: reason" and returns null.</summary>
    public static PlanSummary? TryRead(string path, ResourceClassMap? classes = null)
    {
        if (Directory.Exists(path))
        {
            Console.Error.WriteLine($"airlock: {path}: is a directory; give the plan JSON file (`tofu show -json PLANFILE > plan.json`)");
            return null;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            return PlanReader.Read(stream, classes ?? ResourceClassMap.Default);
        }
        catch (PlanParseException e)
        {
            Console.Error.WriteLine($"airlock: {path}:{e.Line}:{e.Column}: {e.Reason}");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            Console.Error.WriteLine($"airlock: {path}: cannot read: {e.Message}");
        }

        return null;
    }
}
