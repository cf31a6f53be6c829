using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Graph;
using Airlock.Application.Source;
using Airlock.Application.Workspace;
using Airlock.Domain.Graph;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock graph [--env ENV] [--format text|dot|json] [--commit SHA] [--base REF] [--all]`: the stack DAG
/// in layers, and which stacks a commit would run and why. Reads only: nothing is written anywhere.
/// </summary>
internal static class GraphCommand
{
    private static readonly string[] Formats = ["text", "dot", "json"];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var environment = new Option<string?>("--env") { Description = "Only stacks enabled in this environment." };
        var format = new Option<string>("--format") { Description = "text, dot (Graphviz) or json.", DefaultValueFactory = _ => "text" };
        var commit = new Option<string?>("--commit") { Description = "The commit whose changes decide what runs (default HEAD)." };
        var baseReference = new Option<string?>("--base") { Description = "Compare with this ref (git diff BASE...COMMIT); default: the base branch, or the commit's parent when it is on it." };
        var all = new Option<bool>("--all") { Description = "Every stack runs, whatever changed." };
        var command = new Command("graph", "Show the stack DAG (layers that can run in parallel) and which stacks a commit would run, and why.");
        command.Options.Add(environment);
        command.Options.Add(format);
        command.Options.Add(commit);
        command.Options.Add(baseReference);
        command.Options.Add(all);
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            new GraphRequest(parseResult.GetValue(environment), parseResult.GetValue(format) ?? "text", parseResult.GetValue(commit), parseResult.GetValue(baseReference), parseResult.GetValue(all)),
            cancellationToken));
        return command;
    }

    private sealed record GraphRequest(string? Environment, string Format, string? Commit, string? Base, bool All);

    /// <summary>One stack that would run: kind is config, files, module, dependant or all.</summary>
    private sealed record Impact(string Stack, string Kind, string Reason, StackChange? Change, ImmutableArray<string> ChangedUpstream);

    /// <summary>What the commit analysis found; Impacts null when it could not be made (no git history).</summary>
    private sealed record Analysis(CommitChangeSet? Changes, ImmutableArray<Impact>? Impacts, string? Unknown);

    private static async Task<int> RunAsync(GraphRequest request, CancellationToken cancellationToken)
    {
        try
        {
            if (!Formats.Contains(request.Format, StringComparer.Ordinal))
            {
                throw new UserInputException($"unknown format '{request.Format}' (known: {string.Join(", ", Formats)})");
            }

            if (request.All && (request.Commit is not null || request.Base is not null))
            {
                throw new UserInputException("--all runs every stack whatever changed: it cannot be combined with --commit or --base");
            }

            var workspace = AirlockWorkspace.Load(Environment.CurrentDirectory);
            if (request.Environment is not null)
            {
                _ = workspace.Environment(request.Environment);
            }

            var graph = StackGraph.From(workspace.Config, request.Environment);
            var analysis = await AnalyseAsync(workspace, graph, request, cancellationToken);
            var output = request.Format switch
            {
                "json" => RenderJson(workspace, graph, analysis),
                "dot" => RenderDot(workspace, graph, analysis),
                _ => RenderText(workspace, graph, analysis),
            };
            Console.Out.Write(output);
            return ExitCodes.Ok;
        }
        catch (UserInputException e)
        {
            return GovernedCommand.Fail(ExitCodes.BadInput, e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return GovernedCommand.Fail(ExitCodes.Cancelled, "cancelled");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return GovernedCommand.Fail(ExitCodes.Failed, e.Message);
        }
    }

    private static async Task<Analysis> AnalyseAsync(AirlockWorkspace workspace, StackGraph graph, GraphRequest request, CancellationToken cancellationToken)
    {
        if (request.All)
        {
            return new Analysis(null, [.. graph.Stacks.Select(s => new Impact(s, "all", "--all: every stack runs", null, []))], null);
        }

        if (request.Commit is null && request.Base is null)
        {
            // Without an explicit commit, a workspace outside git (or before its first commit) still shows its graph.
            var git = new GitRepository(workspace.Root);
            if (await git.TopLevelAsync(cancellationToken) is null || await git.ResolveAsync("HEAD", cancellationToken) is null)
            {
                return new Analysis(null, null, "not a git repository with a commit, so what changed is unknown (--all selects every stack)");
            }
        }

        var changes = await CommitChanges.FindAsync(workspace.Root, request.Commit, request.Base, cancellationToken);
        var changed = ChangedStackDetector.Detect(changes.RepositoryRoot, workspace.Root, workspace.Config, changes.Files)
            .Where(c => graph.Contains(c.Stack))
            .ToDictionary(c => c.Stack, StringComparer.Ordinal);
        var impacts = graph.Affected(changed.Keys).Select(a =>
        {
            var dependantOf = a.ChangedUpstream.IsEmpty ? null : "dependant of " + string.Join(", ", a.ChangedUpstream);
            if (changed.TryGetValue(a.Stack, out var change))
            {
                var reason = dependantOf is null ? change.Reason : $"{change.Reason}; also {dependantOf}";
                return new Impact(a.Stack, change.Kind.ToString().ToLowerInvariant(), reason, change, a.ChangedUpstream);
            }

            return new Impact(a.Stack, "dependant", dependantOf!, null, a.ChangedUpstream);
        });
        return new Analysis(changes, [.. impacts], null);
    }

    private static string RenderText(AirlockWorkspace workspace, StackGraph graph, Analysis analysis)
    {
        var text = new StringBuilder();
        var scope = graph.Environment is null ? "all environments" : $"environment {graph.Environment}";
        text.AppendLine(CultureInfo.InvariantCulture, $"{workspace.Config.Project}: {Count(graph.Stacks.Length, "stack")} in {Count(graph.Layers.Length, "layer")} ({scope})");
        var width = graph.Stacks.Select(s => s.Length).DefaultIfEmpty(0).Max();
        for (var layer = 0; layer < graph.Layers.Length; layer++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"layer {layer + 1}");
            foreach (var stack in graph.Layers[layer])
            {
                var after = graph.Edges.Where(e => e.To == stack).Select(Describe).ToList();
                var line = after.Count == 0 ? stack : $"{stack.PadRight(width)}  after {string.Join(", ", after)}";
                text.AppendLine("  " + line);
            }
        }

        text.AppendLine();
        if (analysis.Changes is { } changes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"commit {changes.Commit[..Math.Min(12, changes.Commit.Length)]}: {Count(changes.Files.Count, "changed file")}, compared {changes.Comparison}");
        }

        if (analysis.Impacts is not { } impacts)
        {
            text.AppendLine("would run: unknown: " + analysis.Unknown);
        }
        else if (impacts.IsEmpty)
        {
            text.AppendLine("would run: nothing (no stack's files, local modules or airlock.yaml changed)");
        }
        else
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"would run {impacts.Length} of {graph.Stacks.Length}, in order:");
            foreach (var impact in impacts)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {impact.Stack.PadRight(width)}  {impact.Reason}");
            }
        }

        return text.ToString();
    }

    private static string Describe(StackEdge edge) => edge.Kind == StackEdgeKind.Input
        ? $"{edge.From} (inputs: {string.Join(", ", edge.Inputs.Select(i => $"{i.Name} = {i.FromStack}.{i.Output}"))})"
        : edge.From;

    private static string Count(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    private static string RenderDot(AirlockWorkspace workspace, StackGraph graph, Analysis analysis)
    {
        var impacts = (analysis.Impacts ?? []).ToDictionary(i => i.Stack, StringComparer.Ordinal);
        var dot = new StringBuilder();
        dot.AppendLine(CultureInfo.InvariantCulture, $"digraph {Quote(workspace.Config.Project)} {{");
        dot.AppendLine("  // Edges point from a stack to those that run after it; solid edges pass inputs, dashed ones only order.");
        dot.AppendLine("  // Changed stacks are orange, their dependants yellow; both would run.");
        dot.AppendLine("  rankdir=LR;");
        dot.AppendLine("  node [shape=box, style=rounded, fontname=\"Helvetica\"];");
        foreach (var stack in graph.Stacks)
        {
            if (impacts.TryGetValue(stack, out var impact))
            {
                var colour = impact.Kind == "dependant" ? "#ffe08a" : "#f4a259";
                dot.AppendLine(CultureInfo.InvariantCulture, $"  {Quote(stack)} [style=\"rounded,filled,bold\", fillcolor=\"{colour}\", tooltip={Quote(impact.Reason)}];");
            }
            else
            {
                dot.AppendLine(CultureInfo.InvariantCulture, $"  {Quote(stack)};");
            }
        }

        foreach (var edge in graph.Edges)
        {
            var attributes = edge.Kind == StackEdgeKind.Input
                ? $"label={Quote(string.Join(", ", edge.Inputs.Select(i => i.Name)))}"
                : "style=dashed";
            dot.AppendLine(CultureInfo.InvariantCulture, $"  {Quote(edge.From)} -> {Quote(edge.To)} [{attributes}];");
        }

        dot.AppendLine("}");
        return dot.ToString();
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string RenderJson(AirlockWorkspace workspace, StackGraph graph, Analysis analysis)
    {
        var body = new JsonObject
        {
            ["project"] = workspace.Config.Project,
            ["environment"] = graph.Environment,
            ["layers"] = new JsonArray([.. graph.Layers.Select(l => (JsonNode)Strings(l))]),
            ["edges"] = new JsonArray([.. graph.Edges.Select(e => (JsonNode)new JsonObject
            {
                ["from"] = e.From,
                ["to"] = e.To,
                ["kind"] = e.Kind == StackEdgeKind.Input ? "input" : "depends_on",
                ["inputs"] = new JsonArray([.. e.Inputs.Select(i => (JsonNode)new JsonObject { ["name"] = i.Name, ["output"] = i.Output })]),
            })]),
            ["commit"] = analysis.Changes is { } changes
                ? new JsonObject
                {
                    ["sha"] = changes.Commit,
                    ["base"] = changes.Base,
                    ["comparison"] = changes.Comparison,
                    ["changed_files"] = Strings(changes.Files),
                }
                : null,
            ["affected"] = analysis.Impacts is { } impacts ? new JsonArray([.. impacts.Select(i => (JsonNode)ImpactJson(i))]) : null,
        };
        if (analysis.Unknown is not null)
        {
            body["affected_unknown"] = analysis.Unknown;
        }

        return body.ToJsonString(Json) + Environment.NewLine;
    }

    private static JsonObject ImpactJson(Impact impact) => new()
    {
        ["stack"] = impact.Stack,
        ["kind"] = impact.Kind,
        ["reason"] = impact.Reason,
        ["files"] = Strings(impact.Change?.Files ?? []),
        ["modules"] = new JsonArray([.. (impact.Change?.Modules ?? []).Select(m => (JsonNode)new JsonObject { ["directory"] = m.Directory, ["files"] = Strings(m.Files) })]),
        ["changed_upstream"] = Strings(impact.ChangedUpstream),
    };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);
}
