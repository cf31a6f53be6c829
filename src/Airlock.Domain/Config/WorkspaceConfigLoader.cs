using System.Collections.Immutable;

using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

using static Airlock.Domain.Config.ConfigDiagnosticCodes;
using static Airlock.Domain.Config.YamlNodes;

namespace Airlock.Domain.Config;

/// <summary>The outcome of loading airlock.yaml: the model when valid, and every problem found.</summary>
public sealed record ConfigLoadResult(WorkspaceConfig? Config, ImmutableArray<ConfigDiagnostic> Diagnostics)
{
    /// <summary>True when the file loaded without any diagnostic.</summary>
    public bool IsValid => Config is not null && Diagnostics.IsEmpty;
}

/// <summary>Collects diagnostics in file order.</summary>
internal sealed class Diagnostics(string file)
{
    private readonly List<ConfigDiagnostic> _items = [];

    public void Add(YamlNode node, string code, string message) => Add(node.Start, code, message);

    public void Add(Mark mark, string code, string message) =>
        _items.Add(new ConfigDiagnostic(file, checked((int)mark.Line), checked((int)mark.Column), code, message));

    public int Count => _items.Count;

    public ImmutableArray<ConfigDiagnostic> Sorted() =>
        [.. _items.Distinct().OrderBy(d => d.Line).ThenBy(d => d.Column)];
}

/// <summary>
/// Loads airlock.yaml from text. Pure: the caller reads the file. Parses with YamlDotNet's
/// representation model so every node keeps its position, checks the shape against
/// <see cref="ConfigSchema"/>, maps to <see cref="WorkspaceConfig"/> by hand and checks every
/// cross-reference, reporting all problems at once.
/// </summary>
public static class WorkspaceConfigLoader
{
    /// <summary>Loads <paramref name="yaml"/>; <paramref name="fileName"/> only names the file in diagnostics.</summary>
    public static ConfigLoadResult Load(string yaml, string fileName)
    {
        var diagnostics = new Diagnostics(fileName);

        // The representation model cannot hold a mapping with a repeated key (it throws on the
        // first), so a streaming pass finds them all first; with duplicates nothing else is checked.
        if (!FindDuplicateKeys(yaml, diagnostics) || diagnostics.Count > 0)
        {
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            diagnostics.Add(YamlErrorPosition(e, yaml), YamlSyntax, $"invalid YAML: {CleanYamlMessage(e)}");
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }

        if (stream.Documents.Count > 1)
        {
            diagnostics.Add(stream.Documents[1].RootNode, YamlSyntax, "airlock.yaml must hold one YAML document, found several");
        }

        var root = stream.Documents.Count == 0 ? new YamlMappingNode() : stream.Documents[0].RootNode;
        if (root is not YamlMappingNode rootMapping)
        {
            diagnostics.Add(root, WrongType, $"the file must be a mapping of keys, got {Describe(root)}");
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }

        new SchemaChecker(diagnostics).Check(rootMapping, ConfigSchema.Root, "");
        var config = new ModelBuilder(diagnostics, rootMapping).Build();
        var sorted = diagnostics.Sorted();
        return new ConfigLoadResult(sorted.IsEmpty ? config : null, sorted);
    }

    private static bool FindDuplicateKeys(string yaml, Diagnostics diagnostics)
    {
        // Each open collection: its seen keys (null for a sequence) and whether the next node is a key.
        var frames = new Stack<(HashSet<string>? Keys, bool ExpectKey)>();
        var parser = new Parser(new StringReader(yaml));
        var lastGood = new Mark();
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                lastGood = current.End;
                if (current is MappingEnd or SequenceEnd)
                {
                    frames.Pop();
                    continue;
                }

                if (current is not NodeEvent)
                {
                    continue;
                }

                if (frames.Count > 0 && frames.Peek() is { Keys: { } keys, ExpectKey: var expectKey })
                {
                    if (expectKey && current is Scalar { Value: var key } && !keys.Add(key))
                    {
                        diagnostics.Add(current.Start, DuplicateKey, $"duplicate key '{key}': each key may appear once in a mapping");
                    }

                    frames.Push((frames.Pop().Keys, !expectKey));
                }

                if (current is MappingStart)
                {
                    frames.Push((new HashSet<string>(StringComparer.Ordinal), true));
                }
                else if (current is SequenceStart)
                {
                    frames.Push((null, false));
                }
            }
        }
        catch (YamlException e)
        {
            diagnostics.Add(YamlErrorPosition(e, yaml), YamlSyntax, $"invalid YAML: {CleanYamlMessage(e)}");
            return false;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (not a YamlException) on some unterminated flow
            // collections; the last event it produced is the best position we have.
            diagnostics.Add(lastGood, YamlSyntax, "invalid YAML: unterminated flow collection ([...] or {...}) or malformed value after this point");
            return false;
        }

        return true;
    }

    // Where a YAML error is: the start of the token the scanner was reading, except for a tab in an indentation: the
    // parser places that at the token or mapping it was in (line 1 for a tab on line 5), so the first line from there
    // whose indentation holds a tab is named instead, which is where the user has to look.
    private static Mark YamlErrorPosition(YamlException e, string yaml)
    {
        var message = CleanYamlMessage(e);
        if (!message.Contains("tab character", StringComparison.Ordinal) && !message.Contains(" tab as ", StringComparison.Ordinal))
        {
            return e.Start;
        }

        var lines = yaml.Split('\n');
        for (var i = (int)Math.Max(0, e.Start.Line - 1); i < lines.Length; i++)
        {
            var indentation = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indentation);
            if (tab >= 0)
            {
                return new Mark(0, i + 1, tab + 1);
            }
        }

        return e.Start;
    }

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (…): "; the diagnostic carries the position already.
    private static string CleanYamlMessage(YamlException e)
    {
        var message = e.InnerException is YamlException inner && !string.IsNullOrWhiteSpace(inner.Message) ? inner.Message : e.Message;
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        message = cut >= 0 ? message[(cut + 3)..] : message;
        return message.Trim().TrimEnd('.').Replace('\n', ' ');
    }
}
