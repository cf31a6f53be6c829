using System.Text.Json.Nodes;

namespace Airlock.Application.Verification;

/// <summary>One check's result, recorded in evidence and shown to the user.</summary>
/// <param name="Kind"><c>http</c>, <c>tcp</c>, <c>command</c> or <c>drift</c>.</param>
/// <param name="Target">The URL, <c>host:port</c>, command text or stack name, with placeholders substituted and secrets redacted.</param>
/// <param name="Passed">True when the check passed.</param>
/// <param name="Attempts">Attempts made; 0 when the check could not start (e.g. an unknown placeholder).</param>
/// <param name="Detail">One redacted line, e.g. "200 after 3 attempts" or "exit code 2: permission denied".</param>
public sealed record CheckOutcome(string Kind, string Target, bool Passed, int Attempts, string Detail)
{
    /// <summary>The stable JSON form, shared by run details and `apply --json`.</summary>
    public JsonObject ToJson() => new()
    {
        ["kind"] = Kind,
        ["target"] = Target,
        ["passed"] = Passed,
        ["attempts"] = Attempts,
        ["detail"] = Detail,
    };
}
