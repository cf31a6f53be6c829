using System.Text.RegularExpressions;

namespace Airlock.Application.Verification;

/// <summary>The result of substituting placeholders into one configured text.</summary>
/// <param name="Text">The text with every known placeholder replaced; unknown ones stay as written.</param>
/// <param name="Unknown">Placeholders (with braces) that have no value, in order of appearance.</param>
/// <param name="Unsafe">Placeholders whose value is not a plain shell word (only when a word check was asked for).</param>
internal sealed record Substitution(string Text, IReadOnlyList<string> Unknown, IReadOnlyList<string> Unsafe)
{
    public bool IsComplete => Unknown.Count == 0 && Unsafe.Count == 0;

    /// <summary>One line naming what went wrong, for the outcome detail.</summary>
    public string Problem(string field) => Unknown.Count > 0
        ? $"unknown placeholder{(Unknown.Count == 1 ? "" : "s")} {string.Join(", ", Unknown)} in {field}"
        : $"placeholder{(Unsafe.Count == 1 ? "" : "s")} {string.Join(", ", Unsafe)} in {field} would put shell syntax into the command; only letters, digits and ._-/:@%+=, are substituted into commands";
}

/// <summary>Substitutes <c>{name}</c> placeholders in check texts.</summary>
internal static partial class PlaceholderText
{
    /// <summary>Replaces each <c>{name}</c> with its value; when <paramref name="shellWordsOnly"/>, values must be plain shell words.</summary>
    public static Substitution Substitute(string text, IReadOnlyDictionary<string, string> values, bool shellWordsOnly = false)
    {
        var unknown = new List<string>();
        var unsafeValues = new List<string>();
        var result = Placeholder().Replace(text, match =>
        {
            if (!values.TryGetValue(match.Groups["name"].Value, out var value))
            {
                AddOnce(unknown, match.Value);
                return match.Value;
            }

            // A value is pasted into `sh -c` text: a tag such as "v1;reboot" must not become a second command.
            if (shellWordsOnly && !ShellWord().IsMatch(value))
            {
                AddOnce(unsafeValues, match.Value);
                return match.Value;
            }

            return value;
        });
        return new Substitution(result, unknown, unsafeValues);
    }

    private static void AddOnce(List<string> list, string item)
    {
        if (!list.Contains(item))
        {
            list.Add(item);
        }
    }

    // "${HOME}" is shell syntax, not ours, so a brace after '$' is left alone.
    [GeneratedRegex(@"(?<!\$)\{(?<name>[A-Za-z][A-Za-z0-9_]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^[A-Za-z0-9._/:@%+=,-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ShellWord();
}
