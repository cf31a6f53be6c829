namespace Airlock.Domain.Serialization;

/// <summary>
/// The reason in a System.Text.Json exception message, without the position it appends
/// (" Path: $.x | LineNumber: 0 | BytePositionInLine: 7."): callers place the error themselves, 1-based.
/// </summary>
public static class JsonErrorText
{
    /// <summary>The message up to its appended path or position, trimmed, without the final period.</summary>
    public static string Reason(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal) is var path and > 0 ? path : message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim().TrimEnd('.');
    }
}
