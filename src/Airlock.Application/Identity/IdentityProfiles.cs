using System.Globalization;
using System.Text;

namespace Airlock.Application.Identity;

/// <summary>
/// An execution identity resolved at run time: the variables the engine gets (injected, redacted from
/// every output, never logged or stored) and where they came from. Evidence records the profile, the
/// source and the variable names — never the values.
/// </summary>
public sealed record ResolvedIdentity(string Profile, IReadOnlyDictionary<string, string> Variables, string Source)
{
    /// <summary>What evidence may say about this identity.</summary>
    public IReadOnlyDictionary<string, string> Claims => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["profile"] = Profile,
        ["source"] = Source,
        ["variables"] = string.Join(",", Variables.Keys.Order(StringComparer.Ordinal)),
    };

    /// <inheritdoc />
    public override string ToString() => $"identity {Profile} from {Source} ({Variables.Count} variables, values hidden)";
}

/// <summary>
/// Resolves a stack's identity profile (<c>identity: iac-apply-{env}-network</c>) on this runner:
/// the file named by <c>AIRLOCK_IDENTITY_&lt;PROFILE&gt;</c>, else <c>.airlock/identities/&lt;profile&gt;.env</c>,
/// holding KEY=VALUE lines. Credentials never live in airlock.yaml; a configured profile that cannot
/// be resolved refuses the run (identity binding is never bypassed, not even by break-glass).
/// </summary>
public static class IdentityProfiles
{
    /// <summary>The variable that names a profile's credentials file, e.g. AIRLOCK_IDENTITY_IAC_APPLY_PROD.</summary>
    public static string VariableFor(string profile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(profile);
        var name = new StringBuilder("AIRLOCK_IDENTITY_");
        foreach (var c in profile.ToUpperInvariant())
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return name.ToString();
    }

    /// <summary>The profile's credentials, null when no profile is configured; a <see cref="RefusedException"/> when it is configured but not available here.</summary>
    public static ResolvedIdentity? Resolve(string? profile, string stateDirectory, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (string.IsNullOrWhiteSpace(profile))
        {
            return null;
        }

        var variable = VariableFor(profile);
        var fallback = Path.Combine(stateDirectory, "identities", profile + ".env");
        var (path, source) = environment(variable) is { Length: > 0 } named ? (named, variable) : (fallback, Path.Combine(".airlock", "identities", profile + ".env"));
        if (!File.Exists(path))
        {
            throw new RefusedException($"the execution identity '{profile}' is not available on this runner: set {variable} to a credentials file (KEY=VALUE lines) or create .airlock/identities/{profile}.env");
        }

        return new ResolvedIdentity(profile, Parse(path), source);
    }

    private static Dictionary<string, string> Parse(string path)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? line[..equals].Trim() : string.Empty;
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(key[0]))
            {
                // Never echo the line: it may hold a secret.
                throw new UserInputException(string.Create(CultureInfo.InvariantCulture, $"{path}:{number}: expected KEY=VALUE with KEY made of letters, digits and _"));
            }

            variables[key] = line[(equals + 1)..].Trim();
        }

        return variables;
    }
}
