using System.Globalization;

namespace Airlock.Engines;

/// <summary>
/// A Terraform-style version constraint ("&gt;= 1.6, &lt; 2.0", "~&gt; 1.6.0", "= 1.7.3", "1.7.3")
/// used to check the configured tool version before running anything.
/// </summary>
public sealed class VersionConstraint
{
    // Longest operators first, so ">=" is not read as ">".
    private static readonly string[] Operators = ["~>", ">=", "<=", "!=", ">", "<", "="];
    private readonly List<(string Op, Version Version, int Parts)> _terms;

    private VersionConstraint(string text, List<(string, Version, int)> terms)
    {
        Text = text;
        _terms = terms;
    }

    /// <summary>The constraint as written.</summary>
    public string Text { get; }

    /// <summary>Parses a constraint; throws <see cref="EngineConfigurationException"/> with the reason when it is malformed.</summary>
    public static VersionConstraint Parse(string text)
    {
        var terms = new List<(string, Version, int)>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var op = Operators.FirstOrDefault(o => raw.StartsWith(o, StringComparison.Ordinal)) ?? "=";
            var versionText = raw.StartsWith(op, StringComparison.Ordinal) ? raw[op.Length..].Trim() : raw;
            if (!TryParseVersion(versionText, out var version, out var parts))
            {
                throw new EngineConfigurationException($"required version \"{text}\": \"{raw}\" is not a version constraint");
            }

            terms.Add((op, version, parts));
        }

        return terms.Count == 0 ? throw new EngineConfigurationException($"required version \"{text}\" is empty") : new VersionConstraint(text, terms);
    }

    /// <summary>True when <paramref name="versionText"/> (e.g. "1.7.3", "v3.100.0", "1.8.0-beta1") satisfies every term.</summary>
    public bool IsSatisfiedBy(string versionText)
    {
        if (!TryParseVersion(versionText, out var v, out _))
        {
            return false;
        }

        return _terms.All(t => t.Op switch
        {
            "=" => v == t.Version,
            "!=" => v != t.Version,
            ">" => v > t.Version,
            ">=" => v >= t.Version,
            "<" => v < t.Version,
            "<=" => v <= t.Version,
            // ~> 1.6.0 allows >= 1.6.0 and < 1.7.0; ~> 1.6 allows >= 1.6 and < 2.0.
            _ => v >= t.Version && v < PessimisticUpperBound(t.Version, t.Parts),
        });
    }

    private static Version PessimisticUpperBound(Version v, int parts) => parts switch
    {
        1 => new Version(v.Major + 1, 0, 0),
        2 => new Version(v.Major + 1, 0, 0),
        _ => new Version(v.Major, v.Minor + 1, 0),
    };

    private static bool TryParseVersion(string text, out Version version, out int parts)
    {
        var core = text.Trim().TrimStart('v').Split('-', '+')[0];
        var numbers = core.Split('.');
        parts = numbers.Length;
        version = new Version(0, 0, 0);
        if (numbers.Length is < 1 or > 3)
        {
            return false;
        }

        var values = new int[3];
        for (var i = 0; i < numbers.Length; i++)
        {
            if (!int.TryParse(numbers[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
            {
                return false;
            }
        }

        version = new Version(values[0], values[1], values[2]);
        return true;
    }
}
