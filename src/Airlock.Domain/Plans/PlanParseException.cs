namespace Airlock.Domain.Plans;

/// <summary>Why a plan artifact could not be read.</summary>
public enum PlanErrorKind
{
    /// <summary>The bytes are not valid JSON.</summary>
    Malformed,

    /// <summary>The JSON ends before the document does.</summary>
    Truncated,

    /// <summary>Valid JSON, but not a plan or event stream.</summary>
    NotAPlan,

    /// <summary>A plan in a format version this build does not understand.</summary>
    UnsupportedVersion,
}

/// <summary>A plan artifact that cannot be summarised, with the 1-based position of the problem.</summary>
public sealed class PlanParseException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PlanParseException(PlanErrorKind kind, string reason, long line, long column, Exception? inner = null)
        : base($"{line}:{column}: {reason}", inner)
    {
        Kind = kind;
        Reason = reason;
        Line = line;
        Column = column;
    }

    /// <summary>Creates the exception.</summary>
    public PlanParseException()
        : this(PlanErrorKind.Malformed, "invalid plan", 1, 1)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PlanParseException(string message)
        : this(PlanErrorKind.Malformed, message, 1, 1)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PlanParseException(string message, Exception innerException)
        : this(PlanErrorKind.Malformed, message, 1, 1, innerException)
    {
    }

    /// <summary>The kind of problem.</summary>
    public PlanErrorKind Kind { get; }

    /// <summary>One-line reason without the position.</summary>
    public string Reason { get; }

    /// <summary>1-based line.</summary>
    public long Line { get; }

    /// <summary>1-based column (bytes).</summary>
    public long Column { get; }

    internal static PlanParseException FromJson(System.Text.Json.JsonException e)
    {
        var line = (e.LineNumber ?? 0) + 1;
        var column = (e.BytePositionInLine ?? 0) + 1;
        var message = e.Message;
        var truncated = message.Contains("end of data", StringComparison.OrdinalIgnoreCase)
            || message.Contains("Expected depth to be zero", StringComparison.Ordinal)
            || message.Contains("does not contain any JSON tokens", StringComparison.Ordinal)
            || message.Contains("incomplete", StringComparison.OrdinalIgnoreCase);

        // The reader's message repeats the position ("LineNumber: 3 | BytePositionInLine: 7."), which this exception carries.
        var reason = Serialization.JsonErrorText.Reason(message);
        if (message.Contains("does not contain any JSON tokens", StringComparison.Ordinal))
        {
            // An empty file (or only whitespace): usually a `show -json` whose output was redirected but that failed.
            return new PlanParseException(PlanErrorKind.Truncated, "empty input: no JSON at all", line, column, e);
        }

        return truncated
            ? new PlanParseException(PlanErrorKind.Truncated, "truncated JSON: " + reason, line, column, e)
            : new PlanParseException(PlanErrorKind.Malformed, "malformed JSON: " + reason, line, column, e);
    }
}
