using System.Collections.Immutable;

using Airlock.Application.Workspace;
using Airlock.Domain.Config;
using Airlock.Domain.Graph;

namespace Airlock.Application.Graph;

/// <summary>The main reason a stack counts as changed.</summary>
public enum StackChangeKind
{
    /// <summary>airlock.yaml changed: any stack's settings (engine, inputs, identity…) may differ.</summary>
    Config,

    /// <summary>Files under the stack's path changed.</summary>
    Files,

    /// <summary>Only a local module the stack uses (directly or through other modules) changed.</summary>
    Module,
}

/// <summary>A local module directory and the changed files in it.</summary>
/// <param name="Directory">Workspace-relative with '/', e.g. <c>modules/vpc</c> (may start with <c>../</c>).</param>
/// <param name="Files">Changed files in it, workspace-relative with '/'.</param>
public sealed record ModuleChange(string Directory, ImmutableArray<string> Files);

/// <summary>Why one stack counts as changed. Paths are workspace-relative with '/'.</summary>
/// <param name="Stack">The stack.</param>
/// <param name="ConfigChanged">airlock.yaml itself changed.</param>
/// <param name="Files">Changed files under the stack's path.</param>
/// <param name="Modules">Local modules outside the stack's path that it uses and that changed.</param>
public sealed record StackChange(string Stack, bool ConfigChanged, ImmutableArray<string> Files, ImmutableArray<ModuleChange> Modules)
{
    private const int ListedFiles = 3;

    /// <summary>The strongest reason: config, then own files, then modules.</summary>
    public StackChangeKind Kind => ConfigChanged ? StackChangeKind.Config : Files.IsEmpty ? StackChangeKind.Module : StackChangeKind.Files;

    /// <summary>One line for people, e.g. "changed: infrastructure/network/main.tf; module modules/vpc changed (modules/vpc/main.tf)".</summary>
    public string Reason
    {
        get
        {
            var parts = new List<string>();
            if (ConfigChanged)
            {
                parts.Add($"{AirlockWorkspace.ConfigFileName} changed (it configures every stack)");
            }

            if (!Files.IsEmpty)
            {
                parts.Add("changed: " + Listed(Files));
            }

            parts.AddRange(Modules.Select(m => $"module {m.Directory} changed ({Listed(m.Files)})"));
            return string.Join("; ", parts);
        }
    }

    private static string Listed(ImmutableArray<string> files) =>
        string.Join(", ", files.Take(ListedFiles)) + (files.Length > ListedFiles ? $" and {files.Length - ListedFiles} more" : string.Empty);
}

/// <summary>
/// Decides which stacks a set of changed files touches: a stack changed when a file under its path
/// changed, when a file of a local module it uses changed (modules of modules followed), or when
/// airlock.yaml changed. Module usage is read from the stack's *.tf and *.tf.json files on disk (the
/// checked-out tree).
/// </summary>
public static class ChangedStackDetector
{
    /// <summary>
    /// The changed stacks of <paramref name="config"/>, in config order.
    /// <paramref name="changedFiles"/> are relative to <paramref name="repositoryRoot"/> (as git prints them);
    /// stack paths and module sources are resolved from <paramref name="workspaceRoot"/>.
    /// </summary>
    public static ImmutableArray<StackChange> Detect(string repositoryRoot, string workspaceRoot, WorkspaceConfig config, IEnumerable<string> changedFiles)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(changedFiles);
        var workspace = Path.GetFullPath(workspaceRoot);
        var files = changedFiles.Select(f => Path.GetFullPath(Path.Combine(repositoryRoot, f))).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var configChanged = files.Contains(Path.Combine(workspace, AirlockWorkspace.ConfigFileName), StringComparer.Ordinal);
        var changes = ImmutableArray.CreateBuilder<StackChange>();
        foreach (var stack in config.Stacks)
        {
            var stackDirectory = Path.GetFullPath(Path.Combine(workspace, stack.Path));
            var own = files.Where(f => IsUnder(f, stackDirectory)).ToList();
            var modules = LocalModules(stackDirectory)
                .Where(m => !IsUnder(m, stackDirectory))
                .Select(m => (Directory: m, Files: files.Where(f => IsUnder(f, m) && !own.Contains(f)).ToList()))
                .Where(m => m.Files.Count > 0)
                .Select(m => new ModuleChange(Relative(workspace, m.Directory), [.. m.Files.Select(f => Relative(workspace, f))]))
                .ToImmutableArray();
            if (configChanged || own.Count > 0 || !modules.IsEmpty)
            {
                changes.Add(new StackChange(stack.Name, configChanged, [.. own.Select(f => Relative(workspace, f))], modules));
            }
        }

        return changes.ToImmutable();
    }

    /// <summary>
    /// Absolute directories of the local modules <paramref name="directory"/> uses, transitively, sorted.
    /// Registry, git and other remote sources are not followed; a missing directory contributes nothing.
    /// </summary>
    public static ImmutableArray<string> LocalModules(string directory)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push(Path.GetFullPath(directory));
        var visited = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var current))
        {
            if (!visited.Add(current) || !Directory.Exists(current))
            {
                continue;
            }

            foreach (var source in SourcesIn(current).Where(ModuleSources.IsLocal))
            {
                var module = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(current, source)));
                if (found.Add(module))
                {
                    pending.Push(module);
                }
            }
        }

        return [.. found];
    }

    // A module is one directory: the engine reads only its top-level files, so subdirectories are not scanned.
    private static IEnumerable<string> SourcesIn(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            if (file.EndsWith(".tf", StringComparison.Ordinal))
            {
                foreach (var source in ModuleSources.FromHcl(File.ReadAllText(file)))
                {
                    yield return source;
                }
            }
            else if (file.EndsWith(".tf.json", StringComparison.Ordinal))
            {
                foreach (var source in ModuleSources.FromJson(File.ReadAllText(file)))
                {
                    yield return source;
                }
            }
        }
    }

    private static bool IsUnder(string path, string directory) =>
        path.StartsWith(Path.TrimEndingDirectorySeparator(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string Relative(string workspace, string path) =>
        Path.GetRelativePath(workspace, path).Replace(Path.DirectorySeparatorChar, '/');
}
