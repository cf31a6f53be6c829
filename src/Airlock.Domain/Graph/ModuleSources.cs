using System.Collections.Immutable;
using System.Text;
using System.Text.Json;

namespace Airlock.Domain.Graph;

/// <summary>
/// Finds the <c>source</c> of every <c>module</c> block in one OpenTofu/Terraform file, native (.tf)
/// or JSON (.tf.json) syntax, without evaluating anything. Only literal strings count: a source built
/// from an expression cannot be a local path (the language forbids it).
/// </summary>
public static class ModuleSources
{
    /// <summary>
    /// True for a local module path: the language only treats sources starting with <c>./</c> or
    /// <c>../</c> as local; everything else is a registry, git, http or bucket address.
    /// </summary>
    public static bool IsLocal(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.StartsWith("./", StringComparison.Ordinal) || source.StartsWith("../", StringComparison.Ordinal);
    }

    /// <summary>Sources of the top-level <c>module "name" { source = "…" }</c> blocks of a .tf file, in file order.</summary>
    public static ImmutableArray<string> FromHcl(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = Tokenize(text);
        var sources = ImmutableArray.CreateBuilder<string>();
        var depth = 0;
        var moduleDepth = -1;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            switch (token.Kind)
            {
                case TokenKind.Open:
                    depth++;
                    break;
                case TokenKind.Close:
                    depth--;
                    if (depth < moduleDepth)
                    {
                        moduleDepth = -1;
                    }

                    break;
                case TokenKind.Identifier when depth == 0 && token.Text == "module"
                    && At(tokens, i + 1, TokenKind.String) && At(tokens, i + 2, TokenKind.Open):
                    moduleDepth = 1;
                    break;
                case TokenKind.Identifier when depth == moduleDepth && token.Text == "source"
                    && At(tokens, i + 1, TokenKind.Equals) && At(tokens, i + 2, TokenKind.String) && tokens[i + 2].Text is { } source:
                    sources.Add(source);
                    break;
                default:
                    break;
            }
        }

        return sources.ToImmutable();
    }

    /// <summary>Sources of the <c>"module": {"name": {"source": "…"}}</c> entries of a .tf.json file; empty when it is not JSON.</summary>
    public static ImmutableArray<string> FromJson(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sources = ImmutableArray.CreateBuilder<string>();
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("module", out var modules))
            {
                // The JSON syntax allows a block type's value as an object or as an array of objects.
                foreach (var group in modules.ValueKind == JsonValueKind.Array ? [.. modules.EnumerateArray()] : new[] { modules })
                {
                    if (group.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    foreach (var module in group.EnumerateObject())
                    {
                        foreach (var body in module.Value.ValueKind == JsonValueKind.Array ? [.. module.Value.EnumerateArray()] : new[] { module.Value })
                        {
                            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.String)
                            {
                                sources.Add(source.GetString()!);
                            }
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A file the engine itself would reject uses no module we could follow.
        }

        return sources.ToImmutable();
    }

    private static bool At(List<Token> tokens, int index, TokenKind kind) => index < tokens.Count && tokens[index].Kind == kind;

    private enum TokenKind
    {
        Identifier,
        String,
        Open,
        Close,
        Equals,
        Other,
    }

    // Text is the literal value for a string without interpolation, else null.
    private readonly record struct Token(TokenKind Kind, string? Text);

    // Just enough of the native syntax to see block structure: comments, strings with ${...} templates and
    // heredocs are skipped so braces and words inside them are not mistaken for structure.
    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '#' || (c == '/' && Peek(text, i + 1) == '/'))
            {
                i = SkipLine(text, i);
            }
            else if (c == '/' && Peek(text, i + 1) == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
            }
            else if (c == '"')
            {
                tokens.Add(new Token(TokenKind.String, ReadString(text, ref i)));
            }
            else if (c == '<' && Peek(text, i + 1) == '<' && TrySkipHeredoc(text, ref i))
            {
                tokens.Add(new Token(TokenKind.Other, null));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '-'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, text[start..i]));
            }
            else
            {
                var kind = c switch
                {
                    '{' => TokenKind.Open,
                    '}' => TokenKind.Close,
                    '=' when Peek(text, i + 1) is not '=' and not '>' && (i == 0 || text[i - 1] is not '=' and not '!' and not '<' and not '>') => TokenKind.Equals,
                    _ => TokenKind.Other,
                };
                if (kind != TokenKind.Other || !char.IsWhiteSpace(c))
                {
                    tokens.Add(new Token(kind, null));
                }

                i++;
            }
        }

        return tokens;
    }

    private static char Peek(string text, int index) => index < text.Length ? text[index] : '\0';

    private static int SkipLine(string text, int i)
    {
        var end = text.IndexOf('\n', i);
        return end < 0 ? text.Length : end + 1;
    }

    // Reads a quoted string starting at text[i] == '"'; leaves i after the closing quote.
    private static string? ReadString(string text, ref int i)
    {
        var value = new StringBuilder();
        var literal = true;
        i++;
        while (i < text.Length && text[i] != '"' && text[i] != '\n')
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                value.Append(text[i + 1] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var other => other });
                i += 2;
            }
            else if (text[i] is '$' or '%' && Peek(text, i + 1) == '{')
            {
                literal = false;
                i = SkipTemplate(text, i + 2);
            }
            else
            {
                value.Append(text[i]);
                i++;
            }
        }

        i = Math.Min(i + 1, text.Length);
        return literal ? value.ToString() : null;
    }

    // Skips a ${...} or %{...} body (which may hold nested strings and braces); returns the index after its '}'.
    private static int SkipTemplate(string text, int i)
    {
        var depth = 1;
        while (i < text.Length && depth > 0)
        {
            switch (text[i])
            {
                case '"':
                    ReadString(text, ref i);
                    continue;
                case '{':
                    depth++;
                    break;
                case '}':
                    depth--;
                    break;
                default:
                    break;
            }

            i++;
        }

        return i;
    }

    // <<EOF or <<-EOF up to a line holding only the marker; false (i unchanged) when it is not a heredoc.
    private static bool TrySkipHeredoc(string text, ref int i)
    {
        var start = i + 2;
        if (Peek(text, start) == '-')
        {
            start++;
        }

        var end = start;
        while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_'))
        {
            end++;
        }

        if (end == start || (end < text.Length && text[end] is not '\n' and not '\r'))
        {
            return false;
        }

        var marker = text[start..end];
        var line = SkipLine(text, end);
        while (line < text.Length)
        {
            var next = SkipLine(text, line);
            if (text[line..next].Trim() == marker)
            {
                i = next;
                return true;
            }

            line = next;
        }

        i = text.Length;
        return true;
    }
}
