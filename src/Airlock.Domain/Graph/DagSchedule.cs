using System.Collections.Immutable;

namespace Airlock.Domain.Graph;

/// <summary>Where one node of a <see cref="DagSchedule"/> stands.</summary>
public enum DagNodeState
{
    /// <summary>Not started yet.</summary>
    Pending,

    /// <summary>Started, not finished.</summary>
    Running,

    /// <summary>Finished well: its dependants may start.</summary>
    Succeeded,

    /// <summary>Finished badly: its dependants are skipped.</summary>
    Failed,

    /// <summary>Never started because something upstream failed.</summary>
    Skipped,
}

/// <summary>
/// Pure list scheduling of a DAG: which nodes may start now and in which order. The order is classic
/// critical-path list scheduling: a ready node's priority is the longest estimated path from it to a sink
/// (its own estimate included), so the chains that bound the makespan start first; ties go by name.
/// A failure skips every transitive dependant and nothing else. Not thread-safe: one owner drives it.
/// </summary>
public sealed class DagSchedule
{
    /// <summary>The estimate of a node given none, so that without estimates priority is the longest chain by node count.</summary>
    public static readonly TimeSpan DefaultEstimate = TimeSpan.FromSeconds(1);

    private readonly ImmutableDictionary<string, ImmutableArray<string>> _prerequisites;
    private readonly ImmutableDictionary<string, ImmutableArray<string>> _dependants;
    private readonly ImmutableDictionary<string, TimeSpan> _estimates;
    private readonly ImmutableDictionary<string, TimeSpan> _priority;
    private readonly ImmutableDictionary<string, int> _topologicalIndex;
    private readonly Dictionary<string, DagNodeState> _states;
    private readonly Dictionary<string, int> _unfinishedPrerequisites;
    private readonly SortedSet<string> _ready;
    private int _pending;
    private int _running;

    /// <summary>Builds a schedule with every node pending.</summary>
    /// <param name="nodes">Node names, unique.</param>
    /// <param name="edges">(node, one of its prerequisites) pairs; duplicates are ignored.</param>
    /// <param name="estimates">Estimated duration per node; a node without one counts as <see cref="DefaultEstimate"/>.</param>
    /// <exception cref="ArgumentException">A duplicate node, an edge or estimate naming an unknown node, a self-edge or a cycle.</exception>
    public DagSchedule(IEnumerable<string> nodes, IEnumerable<(string Node, string Prerequisite)> edges, IReadOnlyDictionary<string, TimeSpan>? estimates = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(edges);
        var names = new List<string>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(node, nameof(nodes));
            if (!known.Add(node))
            {
                throw new ArgumentException($"node '{node}' is listed twice", nameof(nodes));
            }

            names.Add(node);
        }

        var prerequisites = names.ToDictionary(n => n, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (node, prerequisite) in edges)
        {
            if (!known.Contains(node) || !known.Contains(prerequisite))
            {
                throw new ArgumentException($"edge {node} → {prerequisite} names a node that is not in the graph", nameof(edges));
            }

            if (node == prerequisite)
            {
                throw new ArgumentException($"node '{node}' cannot depend on itself", nameof(edges));
            }

            prerequisites[node].Add(prerequisite);
        }

        var estimated = ImmutableDictionary.CreateBuilder<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (node, estimate) in estimates ?? ImmutableDictionary<string, TimeSpan>.Empty)
        {
            if (!known.Contains(node))
            {
                throw new ArgumentException($"estimate for '{node}', which is not in the graph", nameof(estimates));
            }

            ArgumentOutOfRangeException.ThrowIfLessThan(estimate, TimeSpan.Zero, nameof(estimates));
            estimated[node] = estimate;
        }

        foreach (var node in names.Where(n => !estimated.ContainsKey(n)))
        {
            estimated[node] = DefaultEstimate;
        }

        _estimates = estimated.ToImmutable();
        _prerequisites = prerequisites.ToImmutableDictionary(e => e.Key, e => e.Value.ToImmutableArray(), StringComparer.Ordinal);
        var dependants = names.ToDictionary(n => n, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (node, before) in _prerequisites)
        {
            foreach (var prerequisite in before)
            {
                dependants[prerequisite].Add(node);
            }
        }

        _dependants = dependants.ToImmutableDictionary(e => e.Key, e => e.Value.ToImmutableArray(), StringComparer.Ordinal);
        var order = TopologicalOrder(names, _prerequisites, _dependants);
        Nodes = order;
        _topologicalIndex = order.Select((n, i) => KeyValuePair.Create(n, i)).ToImmutableDictionary(StringComparer.Ordinal);

        // Bottom level: own estimate plus the longest bottom level among dependants, computed sinks first.
        var priority = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        for (var i = order.Length - 1; i >= 0; i--)
        {
            var node = order[i];
            var longestAfter = _dependants[node].Select(d => priority[d]).DefaultIfEmpty(TimeSpan.Zero).Max();
            priority[node] = _estimates[node] + longestAfter;
        }

        _priority = priority.ToImmutableDictionary(StringComparer.Ordinal);
        _states = names.ToDictionary(n => n, _ => DagNodeState.Pending, StringComparer.Ordinal);
        _unfinishedPrerequisites = names.ToDictionary(n => n, n => _prerequisites[n].Length, StringComparer.Ordinal);
        _ready = new SortedSet<string>(names.Where(n => _prerequisites[n].IsEmpty), Comparer<string>.Create(ComparePriority));
        _pending = names.Count;
    }

    /// <summary>Every node in one stable topological order (Kahn generations, by name within each).</summary>
    public ImmutableArray<string> Nodes { get; }

    /// <summary>True when nothing is running and nothing can start: every node succeeded, failed or was skipped.</summary>
    public bool IsFinished => _pending == 0 && _running == 0;

    /// <summary>Number of nodes running now.</summary>
    public int RunningCount => _running;

    /// <summary>
    /// Pending nodes whose prerequisites all succeeded, highest priority first (longest estimated path to a
    /// sink), then by name.
    /// </summary>
    public IReadOnlyList<string> Ready() => [.. _ready];

    /// <summary>The state of <paramref name="node"/>.</summary>
    public DagNodeState StateOf(string node) => _states[Known(node)];

    /// <summary>The direct prerequisites of <paramref name="node"/>, by name.</summary>
    public ImmutableArray<string> PrerequisitesOf(string node) => _prerequisites[Known(node)];

    /// <summary>The estimate used for <paramref name="node"/>.</summary>
    public TimeSpan EstimateOf(string node) => _estimates[Known(node)];

    /// <summary>The longest estimated path from <paramref name="node"/> to a sink, its own estimate included.</summary>
    public TimeSpan PriorityOf(string node) => _priority[Known(node)];

    /// <summary>The longest estimated path through the graph: no schedule, however parallel, finishes sooner.</summary>
    public TimeSpan CriticalPath => _priority.Values.DefaultIfEmpty(TimeSpan.Zero).Max();

    /// <summary>Marks a ready node running.</summary>
    /// <exception cref="InvalidOperationException">The node is not ready.</exception>
    public void Start(string node)
    {
        if (!_ready.Contains(Known(node)))
        {
            throw new InvalidOperationException($"node '{node}' cannot start: it is {Describe(node)}");
        }

        _ready.Remove(node);
        _states[node] = DagNodeState.Running;
        _pending--;
        _running++;
    }

    /// <summary>Marks a running node succeeded; returns the dependants that became ready because of it.</summary>
    public IReadOnlyList<string> Succeed(string node)
    {
        Finish(node, DagNodeState.Succeeded);
        var nowReady = new List<string>();
        foreach (var dependant in _dependants[node])
        {
            if (--_unfinishedPrerequisites[dependant] == 0 && _states[dependant] == DagNodeState.Pending)
            {
                _ready.Add(dependant);
                nowReady.Add(dependant);
            }
        }

        return nowReady;
    }

    /// <summary>Marks a running node failed and every pending transitive dependant skipped; returns those, in topological order.</summary>
    public IReadOnlyList<string> Fail(string node)
    {
        Finish(node, DagNodeState.Failed);
        var skipped = new List<string>();
        var pending = new Stack<string>(_dependants[node]);
        while (pending.TryPop(out var current))
        {
            if (_states[current] != DagNodeState.Pending)
            {
                // Already skipped through another failed branch: its dependants were handled then.
                continue;
            }

            _states[current] = DagNodeState.Skipped;
            _ready.Remove(current);
            _pending--;
            skipped.Add(current);
            foreach (var dependant in _dependants[current])
            {
                pending.Push(dependant);
            }
        }

        return [.. skipped.OrderBy(n => _topologicalIndex[n])];
    }

    /// <summary>The longest path by estimates (the lower bound on any schedule's makespan).</summary>
    public static TimeSpan CriticalPathBound(IEnumerable<string> nodes, IEnumerable<(string Node, string Prerequisite)> edges, IReadOnlyDictionary<string, TimeSpan>? estimates) =>
        new DagSchedule(nodes, edges, estimates).CriticalPath;

    /// <summary>
    /// The makespan of this same list scheduling with <paramref name="parallelism"/> workers (0 or less = unlimited)
    /// when every node takes exactly its estimate: what a runner following <see cref="Ready"/> should achieve.
    /// </summary>
    public static TimeSpan ListScheduleBound(IEnumerable<string> nodes, IEnumerable<(string Node, string Prerequisite)> edges, IReadOnlyDictionary<string, TimeSpan>? estimates, int parallelism) =>
        new DagSchedule(nodes, edges, estimates).SimulateListSchedule(parallelism);

    /// <summary>
    /// A schedule of the stacks <paramref name="stacks"/> of <paramref name="graph"/>, with the graph's edges between
    /// selected stacks only: an unselected upstream stack counts as already done.
    /// </summary>
    /// <exception cref="ArgumentException">A stack that is not in the graph.</exception>
    public static DagSchedule FromGraph(StackGraph graph, IEnumerable<string> stacks, IReadOnlyDictionary<string, TimeSpan>? estimates = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(stacks);
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stack in stacks)
        {
            if (!graph.Contains(stack))
            {
                throw new ArgumentException($"stack '{stack}' is not in the graph", nameof(stacks));
            }

            selected.Add(stack);
        }

        var edges = graph.Edges.Where(e => selected.Contains(e.From) && selected.Contains(e.To)).Select(e => (e.To, e.From));
        return new DagSchedule(graph.Stacks.Where(selected.Contains), edges, estimates);
    }

    /// <summary>Runs a copy of this schedule's graph (all nodes pending) in simulated time; see <see cref="ListScheduleBound"/>.</summary>
    public TimeSpan SimulateListSchedule(int parallelism)
    {
        var simulation = new DagSchedule(Nodes, _prerequisites.SelectMany(e => e.Value.Select(p => (e.Key, p))), _estimates);
        var now = TimeSpan.Zero;
        var finishing = new PriorityQueue<string, (TimeSpan At, int Order)>();
        var sequence = 0;
        while (!simulation.IsFinished)
        {
            foreach (var node in simulation.Ready())
            {
                if (parallelism > 0 && simulation.RunningCount >= parallelism)
                {
                    break;
                }

                simulation.Start(node);
                finishing.Enqueue(node, (now + simulation._estimates[node], sequence++));
            }

            // Every node at the earliest finish instant completes before the next round of starts.
            finishing.TryDequeue(out var done, out var at);
            now = at.At;
            simulation.Succeed(done!);
            while (finishing.TryPeek(out var next, out var nextAt) && nextAt.At == now)
            {
                finishing.Dequeue();
                simulation.Succeed(next);
            }
        }

        return now;
    }

    private void Finish(string node, DagNodeState state)
    {
        if (_states[Known(node)] != DagNodeState.Running)
        {
            throw new InvalidOperationException($"node '{node}' cannot finish: it is {Describe(node)}");
        }

        _states[node] = state;
        _running--;
    }

    private string Describe(string node) => _states[node] switch
    {
        DagNodeState.Pending => "waiting for " + string.Join(", ", _prerequisites[node].Where(p => _states[p] != DagNodeState.Succeeded)),
        var other => other.ToString().ToLowerInvariant(),
    };

    private int ComparePriority(string? left, string? right)
    {
        var byPriority = _priority[right!].CompareTo(_priority[left!]);
        return byPriority != 0 ? byPriority : string.CompareOrdinal(left, right);
    }

    private string Known(string node) =>
        node is not null && _states.ContainsKey(node) ? node : throw new ArgumentException($"node '{node}' is not in the graph", nameof(node));

    private static ImmutableArray<string> TopologicalOrder(List<string> names, ImmutableDictionary<string, ImmutableArray<string>> prerequisites, ImmutableDictionary<string, ImmutableArray<string>> dependants)
    {
        var remaining = names.ToDictionary(n => n, n => prerequisites[n].Length, StringComparer.Ordinal);
        var order = ImmutableArray.CreateBuilder<string>(names.Count);
        var generation = names.Where(n => remaining[n] == 0).Order(StringComparer.Ordinal).ToList();
        while (generation.Count > 0)
        {
            order.AddRange(generation);
            var next = new List<string>();
            foreach (var node in generation)
            {
                foreach (var dependant in dependants[node])
                {
                    if (--remaining[dependant] == 0)
                    {
                        next.Add(dependant);
                    }
                }
            }

            next.Sort(StringComparer.Ordinal);
            generation = next;
        }

        if (order.Count < names.Count)
        {
            var cyclic = names.Where(n => remaining[n] > 0).Order(StringComparer.Ordinal);
            throw new ArgumentException($"dependency cycle: {string.Join(", ", cyclic)} can never start");
        }

        return order.MoveToImmutable();
    }
}
