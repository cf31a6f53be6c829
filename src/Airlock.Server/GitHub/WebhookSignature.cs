using System.Security.Cryptography;
using System.Text;

namespace Airlock.Server.GitHub;

/// <summary>
/// GitHub's webhook signature: <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256 of the raw body keyed with the secret&gt;</c>.
/// Compared in constant time so the response time says nothing about how much of a forged signature was right.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header GitHub signs with.</summary>
    public const string Header = "X-Hub-Signature-256";

    private const string Prefix = "sha256=";

    /// <summary>The header value GitHub would send for <paramref name="body"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> body) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    /// <summary>True when <paramref name="header"/> is the signature of <paramref name="body"/> under <paramref name="secret"/>.</summary>
    public static bool IsValid(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> body, string? header)
    {
        if (secret.IsEmpty || header is null || !header.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, body));
        var presented = Encoding.ASCII.GetBytes(header.Trim().ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }
}
