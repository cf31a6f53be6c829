using System.Text.RegularExpressions;

namespace Airlock.Engines.Processes;

/// <summary>
/// Removes secrets from output lines before anything sees them: configured secret values,
/// values of injected credential variables, and common credential shapes (AWS access key ids,
/// bearer tokens, PEM private key blocks). Create one <see cref="LineFilter"/> per output stream,
/// because a private key block spans lines.
/// </summary>
public sealed partial class Redactor
{
    /// <summary>What a redacted secret is replaced with.</summary>
    public const string Mask = "[REDACTED]";

    // Values shorter than this ("1", "us") would mask half of every line and protect nothing.
    private const int MinimumSecretLength = 4;
    private readonly string[] _secrets;

    /// <summary>Creates a redactor for the given literal secret values (short and empty values are ignored).</summary>
    public Redactor(IEnumerable<string> secrets)
    {
        _secrets = secrets
            .Where(s => s.Length >= MinimumSecretLength)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length) // longest first, so a secret containing another is masked whole
            .ToArray();
    }

    /// <summary>A redactor that only masks credential shapes.</summary>
    public static Redactor ShapesOnly { get; } = new([]);

    /// <summary>Redacts one self-contained text (not part of a stream): literals and shapes.</summary>
    public string Redact(string text)
    {
        var stream = new LineFilter(this);
        return string.Join('\n', text.Split('\n').Select(stream.RedactLine));
    }

    /// <summary>Starts a line-by-line redaction of one output stream.</summary>
    public LineFilter StartLines() => new(this);

    private string RedactLiteralsAndShapes(string line)
    {
        foreach (var secret in _secrets)
        {
            line = line.Replace(secret, Mask, StringComparison.Ordinal);
        }

        line = AwsAccessKeyId().Replace(line, Mask);
        line = BearerToken().Replace(line, "${scheme}" + Mask);
        return line;
    }

    // AKIA (long-term) and ASIA (temporary) key ids are 20 upper-case alphanumerics.
    [GeneratedRegex(@"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", RegexOptions.CultureInvariant)]
    private static partial Regex AwsAccessKeyId();

    [GeneratedRegex(@"(?<scheme>\b[Bb]earer\s+)[A-Za-z0-9\-._~+/]{8,}=*", RegexOptions.CultureInvariant)]
    private static partial Regex BearerToken();

    [GeneratedRegex(@"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----", RegexOptions.CultureInvariant)]
    private static partial Regex PrivateKeyBegin();

    [GeneratedRegex(@"-----END [A-Z0-9 ]*PRIVATE KEY-----", RegexOptions.CultureInvariant)]
    private static partial Regex PrivateKeyEnd();

    /// <summary>Line-by-line redaction state of one output stream.</summary>
    public sealed class LineFilter
    {
        private readonly Redactor _owner;
        private bool _insidePrivateKey;

        internal LineFilter(Redactor owner)
        {
            _owner = owner;
        }

        /// <summary>Returns <paramref name="line"/> with every secret masked.</summary>
        public string RedactLine(string line)
        {
            if (_insidePrivateKey)
            {
                if (PrivateKeyEnd().IsMatch(line))
                {
                    _insidePrivateKey = false;
                    return _owner.RedactLiteralsAndShapes(PrivateKeyEnd().Split(line, 2)[1]) is { Length: > 0 } rest ? Mask + rest : Mask;
                }

                return Mask;
            }

            var begin = PrivateKeyBegin().Match(line);
            if (begin.Success)
            {
                var before = _owner.RedactLiteralsAndShapes(line[..begin.Index]);
                var after = line[(begin.Index + begin.Length)..];
                if (PrivateKeyEnd().IsMatch(after))
                {
                    // A whole key on one line (e.g. JSON with \n escapes): mask through its end.
                    return before + Mask + _owner.RedactLiteralsAndShapes(PrivateKeyEnd().Split(after, 2)[1]);
                }

                _insidePrivateKey = true;
                return before + Mask;
            }

            return _owner.RedactLiteralsAndShapes(line);
        }
    }
}
