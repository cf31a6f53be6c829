using System.Collections.Immutable;

using Airlock.Domain.Config;

namespace Airlock.Domain.Graph;

/// <summary>Why one stack must run after another.</summary>
public enum StackEdgeKind
{
    /// <summary>Listed in <c>depends_on</c> only: an ordering constraint.</summary>
    DependsOn,

    /// <summary>The downstream stack reads outputs of the upstream one (<c>inputs</c>).</summary>
    Input,
}

/// <summary>An edge <paramref name="From"/> → <paramref name="To"/>: <paramref name="From"/> runs first.</summary>
/// <param name="From">The upstream stack.</param>
/// <param name="To">The stack that waits for it.</param>
/// <param name="Kind">Input when any input of <paramref name="To"/> reads <paramref name="From"/>, else DependsOn.</param>
/// <param name="Inputs">The inputs of <paramref name="To"/> read from <paramref name="From"/>, in file order.</param>
public sealed record StackEdge(string From, string To, StackEdgeKind Kind, ImmutableArray<StackInput> Inputs);

/// <summary>A stack that would run, and the changed stacks upstream of it that make it run.</summary>
/// <param name="Stack">The stack.</param>
/// <param name="Changed">True when the stack itself was named as changed.</param>
/// <param name="ChangedUpstream">Changed stacks it transitively depends on, in topological order (empty when none).</param>
public sealed record StackImpact(string Stack, bool Changed, ImmutableArray<string> ChangedUpstream);

/// <summary>
/// The stacks of a workspace (optionally those enabled in one environment) as a DAG built from
/// <c>depends_on</c> and <c>inputs</c>. Every list it returns is in one stable topological order:
/// by layer, then by name.
/// </summary>
public sealed class StackGraph
{
    private readonly ImmutableDictionary<string, ImmutableArray<string>> _dependencies;
    private readonly ImmutableDictionary<string, ImmutableArray<string>> _dependants;
    private readonly ImmutableDictionary<string, int> _position;
    private readonly ImmutableHashSet<string> _configStacks;

    private StackGraph(
        string? environment,
        ImmutableArray<ImmutableArray<string>> layers,
        ImmutableArray<StackEdge> edges,
        ImmutableHashSet<string> configStacks)
    {
        Environment = environment;
        Layers = layers;
        Edges = edges;
        _configStacks = configStacks;
        Stacks = [.. layers.SelectMany(l => l)];
        _position = Stacks.Select((s, i) => KeyValuePair.Create(s, i)).ToImmutableDictionary(StringComparer.Ordinal);
        _dependencies = Stacks.ToImmutableDictionary(s => s, s => edges.Where(e => e.To == s).Select(e => e.From).OrderBy(Position).ToImmutableArray(), StringComparer.Ordinal);
        _dependants = Stacks.ToImmutableDictionary(s => s, s => edges.Where(e => e.From == s).Select(e => e.To).OrderBy(Position).ToImmutableArray(), StringComparer.Ordinal);
    }

    /// <summary>The environment the graph was built for, or null for every stack.</summary>
    public string? Environment { get; }

    /// <summary>
    /// Groups of stacks that may run in parallel: every stack's dependencies are in earlier layers,
    /// and each stack sits in the earliest layer that allows (its longest dependency chain). Sorted by name.
    /// </summary>
    public ImmutableArray<ImmutableArray<string>> Layers { get; }

    /// <summary>Every stack in topological order (the layers, flattened).</summary>
    public ImmutableArray<string> Stacks { get; }

    /// <summary>One edge per (upstream, downstream) pair, ordered by downstream then upstream position.</summary>
    public ImmutableArray<StackEdge> Edges { get; }

    /// <summary>
    /// Builds the graph. With <paramref name="environment"/>, only stacks enabled there are nodes, and a
    /// dependency on a stack that is not enabled there is no edge (there is nothing to wait for).
    /// Throws <see cref="ArgumentException"/> for an unknown environment or a dependency cycle (a validated
    /// config has none).
    /// </summary>
    public static StackGraph From(WorkspaceConfig config, string? environment)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (environment is not null && config.FindEnvironment(environment) is null)
        {
            throw new ArgumentException($"unknown environment '{environment}'", nameof(environment));
        }

        var stacks = environment is null ? config.Stacks : config.StacksEnabledIn(environment);
        var names = stacks.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var upstream = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var edgeInputs = new Dictionary<(string From, string To), List<StackInput>>();
        foreach (var stack in stacks)
        {
            var from = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var dependency in stack.DependsOn.Where(names.Contains))
            {
                from.Add(dependency);
                edgeInputs.TryAdd((dependency, stack.Name), []);
            }

            // The validator requires an input's stack in depends_on; a config built in code may not, so inputs are edges in their own right.
            foreach (var input in stack.Inputs.Where(i => names.Contains(i.FromStack)))
            {
                from.Add(input.FromStack);
                if (!edgeInputs.TryGetValue((input.FromStack, stack.Name), out var list))
                {
                    edgeInputs[(input.FromStack, stack.Name)] = list = [];
                }

                list.Add(input);
            }

            upstream[stack.Name] = from;
        }

        var layers = Layer(upstream);
        var order = layers.SelectMany(l => l).Select((s, i) => KeyValuePair.Create(s, i)).ToDictionary(StringComparer.Ordinal);
        var edges = edgeInputs
            .OrderBy(e => order[e.Key.To]).ThenBy(e => order[e.Key.From])
            .Select(e => new StackEdge(e.Key.From, e.Key.To, e.Value.Count > 0 ? StackEdgeKind.Input : StackEdgeKind.DependsOn, [.. e.Value]))
            .ToImmutableArray();
        return new StackGraph(environment, layers, edges, config.Stacks.Select(s => s.Name).ToImmutableHashSet(StringComparer.Ordinal));
    }

    /// <summary>Where <paramref name="stack"/> stands in the graph's one stable order (dependencies first); unknown stacks sort last.</summary>
    public int Position(string stack) => _position.TryGetValue(stack, out var position) ? position : int.MaxValue;

    /// <summary>True when <paramref name="stack"/> is a node of this graph.</summary>
    public bool Contains(string stack) => _position.ContainsKey(stack);

    /// <summary>The stacks <paramref name="stack"/> directly waits for.</summary>
    public ImmutableArray<string> DependenciesOf(string stack) => _dependencies[Known(stack)];

    /// <summary>Every stack <paramref name="stack"/> transitively depends on, in topological order.</summary>
    public ImmutableArray<string> Upstream(string stack) => Closure([Known(stack)], _dependencies);

    /// <summary>Every stack that transitively depends on <paramref name="stack"/>, in topological order.</summary>
    public ImmutableArray<string> Dependants(string stack) => Closure([Known(stack)], _dependants);

    /// <summary>
    /// The stacks that must run when <paramref name="changedStacks"/> changed: those and every transitive
    /// dependant, in topological order. Names of config stacks not enabled in this graph's environment are
    /// ignored; a name that is no stack at all is an <see cref="ArgumentException"/>.
    /// </summary>
    public ImmutableArray<StackImpact> Affected(IEnumerable<string> changedStacks)
    {
        ArgumentNullException.ThrowIfNull(changedStacks);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in changedStacks)
        {
            if (!_configStacks.Contains(name))
            {
                throw new ArgumentException($"unknown stack '{name}'", nameof(changedStacks));
            }

            if (Contains(name))
            {
                changed.Add(name);
            }
        }

        var affected = changed.Concat(Closure(changed, _dependants)).ToHashSet(StringComparer.Ordinal);
        return [.. Stacks.Where(affected.Contains).Select(s => new StackImpact(
            s,
            changed.Contains(s),
            [.. Upstream(s).Where(changed.Contains)]))];
    }

    private string Known(string stack) =>
        Contains(stack) ? stack : throw new ArgumentException($"stack '{stack}' is not in this graph", nameof(stack));

    private ImmutableArray<string> Closure(IEnumerable<string> start, ImmutableDictionary<string, ImmutableArray<string>> next)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(start);
        while (pending.TryPop(out var current))
        {
            foreach (var neighbour in next[current].Where(seen.Add))
            {
                pending.Push(neighbour);
            }
        }

        return [.. seen.OrderBy(Position)];
    }

    // Kahn's algorithm one generation at a time: a generation is a layer of mutually independent stacks.
    private static ImmutableArray<ImmutableArray<string>> Layer(Dictionary<string, SortedSet<string>> upstream)
    {
        var remaining = upstream.ToDictionary(e => e.Key, e => new HashSet<string>(e.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var layers = ImmutableArray.CreateBuilder<ImmutableArray<string>>();
        while (remaining.Count > 0)
        {
            var ready = remaining.Where(e => e.Value.Count == 0).Select(e => e.Key).Order(StringComparer.Ordinal).ToImmutableArray();
            if (ready.IsEmpty)
            {
                throw new ArgumentException($"dependency cycle among stacks: {string.Join(", ", remaining.Keys.Order(StringComparer.Ordinal))}");
            }

            foreach (var stack in ready)
            {
                remaining.Remove(stack);
            }

            foreach (var waiting in remaining.Values)
            {
                waiting.ExceptWith(ready);
            }

            layers.Add(ready);
        }

        return layers.ToImmutable();
    }
}
