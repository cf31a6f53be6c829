using System.Text.Json.Nodes;

using Airlock.Domain.Config;
using Airlock.Domain.Plans;
using Airlock.Domain.Serialization;

namespace Airlock.Application.Workspace;

/// <summary>A workspace: the directory holding airlock.yaml, and the validated config.</summary>
public sealed class AirlockWorkspace
{
    /// <summary>The config file's name.</summary>
    public const string ConfigFileName = "airlock.yaml";

    private AirlockWorkspace(string root, WorkspaceConfig config, string? stateDirectory = null)
    {
        Root = root;
        Config = config;
        StateDirectory = stateDirectory ?? Path.Combine(root, ".airlock");
    }

    /// <summary>The directory holding airlock.yaml.</summary>
    public string Root { get; }

    /// <summary>The validated config.</summary>
    public WorkspaceConfig Config { get; }

    /// <summary>Airlock's own working directory in the workspace (.airlock/); a revert worktree shares its workspace's.</summary>
    public string StateDirectory { get; }

    /// <summary>Where revert worktrees live (.airlock/reverts/).</summary>
    public string RevertsDirectory => Path.Combine(StateDirectory, "reverts");

    /// <summary>Where pull-request head worktrees live (.airlock/pulls/), planned and applied by the GitHub flow.</summary>
    public string PullsDirectory => Path.Combine(StateDirectory, "pulls");

    /// <summary>Where worktrees of commits planned through the server's API live (.airlock/commits/), planned and applied there.</summary>
    public string CommitsDirectory => Path.Combine(StateDirectory, "commits");

    /// <summary>Resource classes from the config, for the plan reader.</summary>
    public ResourceClassMap ResourceClasses => new(Config.ResourceClasses.Select(c => KeyValuePair.Create(c.Name, (IEnumerable<string>)c.ResourceTypes)));

    /// <summary>
    /// Loads the workspace whose airlock.yaml is in <paramref name="directory"/> or the nearest parent.
    /// An invalid config is a <see cref="UserInputException"/> naming the first problem and how many there are.
    /// </summary>
    public static AirlockWorkspace Load(string directory)
    {
        var root = FindRoot(directory) ?? throw new UserInputException($"no {ConfigFileName} in {directory} or any parent directory (airlock validate explains the format)");
        var path = Path.Combine(root, ConfigFileName);
        var result = WorkspaceConfigLoader.Load(File.ReadAllText(path), path);
        if (!result.IsValid)
        {
            var first = result.Diagnostics.FirstOrDefault();
            var more = result.Diagnostics.Length > 1 ? $" (and {result.Diagnostics.Length - 1} more: run airlock validate)" : string.Empty;
            throw new UserInputException(first is null ? $"{path}: invalid configuration" : $"{first.File}:{first.Line}:{first.Column}: {first.Message}{more}");
        }

        return new AirlockWorkspace(root, result.Config!);
    }

    /// <summary>
    /// The workspace as checked out in <paramref name="sourceRoot"/> (a revert worktree of an earlier commit), sharing
    /// this workspace's state directory (identities, work directories) — its config is the earlier commit's.
    /// </summary>
    public AirlockWorkspace AtSourceTree(string sourceRoot)
    {
        var loaded = Load(sourceRoot);
        return new AirlockWorkspace(loaded.Root, loaded.Config, StateDirectory);
    }

    /// <summary>The stack, or a one-line error listing the known ones.</summary>
    public StackConfig Stack(string name) => Config.FindStack(name)
        ?? throw new UserInputException($"unknown stack '{name}' (known: {string.Join(", ", Config.Stacks.Select(s => s.Name))})");

    /// <summary>The environment, or a one-line error listing the known ones.</summary>
    public EnvironmentConfig Environment(string name) => Config.FindEnvironment(name)
        ?? throw new UserInputException($"unknown environment '{name}' (known: {string.Join(", ", Config.Environments.Select(e => e.Name))})");

    /// <summary>
    /// The regions <paramref name="stack"/> targets in <paramref name="environment"/>: with waves, every wave's
    /// regions in wave order (the stack runs once per region); otherwise the one region of the stack or the
    /// environment, which may be null (a target without a region).
    /// </summary>
    public static IReadOnlyList<string?> Regions(StackConfig stack, EnvironmentConfig environment)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(environment);
        return environment.Waves.IsEmpty
            ? [stack.Region ?? environment.Region]
            : [.. environment.Waves.SelectMany(w => w.Regions).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The region a plan of <paramref name="stack"/> in <paramref name="environment"/> targets: <paramref name="requested"/>
    /// when it is one of <see cref="Regions"/>, the single region when there is one and none was asked for;
    /// otherwise a one-line <see cref="UserInputException"/> naming the valid regions.
    /// </summary>
    public static string? TargetRegion(StackConfig stack, EnvironmentConfig environment, string? requested)
    {
        var regions = Regions(stack, environment);
        if (requested is null)
        {
            return environment.Waves.IsEmpty
                ? regions[0]
                : throw new UserInputException($"{environment.Name} rolls out in waves, so a plan targets one region: plan --region R (one of {string.Join(", ", regions)})");
        }

        if (!regions.Contains(requested, StringComparer.Ordinal))
        {
            var valid = regions[0] is null ? "it has no region" : "its regions: " + string.Join(", ", regions);
            throw new UserInputException($"region '{requested}' is not a target of {stack.Name} in {environment.Name} ({valid})");
        }

        return requested;
    }

    /// <summary>Teams as the approval gate wants them.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Teams() =>
        Config.Teams.ToDictionary(t => t.Name, t => (IReadOnlyList<string>)[.. t.Members], StringComparer.Ordinal);

    /// <summary>
    /// The version of the rules an approval for (<paramref name="stack"/>, <paramref name="environment"/>) was
    /// given under: a digest of the approval requirement, the stack's owners and the members of every team
    /// involved. Change any of them and earlier approvals stop counting.
    /// </summary>
    public string ApprovalPolicyVersion(StackConfig stack, EnvironmentConfig environment)
    {
        var teams = stack.Owners.Concat(environment.Approvals.Roles).Append(Domain.Policy.BuiltInRules.BreakGlassTeam).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var node = new JsonObject
        {
            ["required"] = environment.Approvals.Required,
            ["roles"] = new JsonArray([.. environment.Approvals.Roles.Select(r => (JsonNode)r)]),
            ["separation_of_duties"] = environment.Approvals.SeparationOfDuties,
            ["owners"] = new JsonArray([.. stack.Owners.Select(o => (JsonNode)o)]),
            ["teams"] = new JsonObject(teams.Select(t => KeyValuePair.Create(t, (JsonNode?)new JsonArray([.. Config.TeamMembers(t).Order(StringComparer.OrdinalIgnoreCase).Select(m => (JsonNode)m)])))),
        };
        return CanonicalJson.Sha256Digest(node);
    }

    private static string? FindRoot(string directory)
    {
        for (var current = new DirectoryInfo(Path.GetFullPath(directory)); current is not null; current = current.Parent)
        {
            if (File.Exists(Path.Combine(current.FullName, ConfigFileName)))
            {
                return current.FullName;
            }
        }

        return null;
    }
}
