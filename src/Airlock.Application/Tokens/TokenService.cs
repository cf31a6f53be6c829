using System.Security.Cryptography;
using System.Text;

using Airlock.Domain.Evidence;
using Airlock.Domain.Storage;

namespace Airlock.Application.Tokens;

/// <summary>A token just created: the record and the secret, which is shown this once and never stored.</summary>
public sealed record CreatedToken(ApiTokenRecord Token, string Secret);

/// <summary>
/// API tokens of <c>airlock serve</c>: created by <c>airlock token create</c> on a machine with store access,
/// presented as <c>Authorization: Bearer alk_…</c>. A token acts as exactly one actor; the server never takes
/// an identity from a request body. Every creation and revocation is a chained evidence event
/// (who, for whom, which teams, until when; never the secret): whoever can reach the store can mint a token
/// for anyone, but not unseen.
/// </summary>
public sealed class TokenService(ITokenStore tokens, TimeProvider time, EvidenceLog evidence)
{
    /// <summary>Every secret starts with this, so leaked tokens are easy to recognise and scan for.</summary>
    public const string SecretPrefix = "alk_";

    // Authentications only write "last used" when the stored value is older than this, to keep reads read-only.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    /// <summary>Creates a token for <paramref name="actor"/>.</summary>
    public async Task<CreatedToken> CreateAsync(string actor, IReadOnlyList<string> teams, string createdBy, TimeSpan? validFor, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new UserInputException("a token needs an actor: --actor EMAIL");
        }

        ArgumentNullException.ThrowIfNull(teams);
        if (teams.FirstOrDefault(t => string.IsNullOrWhiteSpace(t) || t.Contains(',', StringComparison.Ordinal)) is { } bad)
        {
            throw new UserInputException($"bad team name '{bad}': team names are non-empty and have no commas");
        }

        if (validFor is { } span && span <= TimeSpan.Zero)
        {
            throw new UserInputException("--expires-in must be positive");
        }

        var now = time.GetUtcNow();
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var record = new ApiTokenRecord(AirlockServices.NewId("tok"), actor.Trim(), teams.Select(t => t.Trim()).Distinct(StringComparer.Ordinal).ToList(),
            createdBy, now, validFor is { } v ? now + v : null, null, null, null);
        await tokens.CreateAsync(record, Hash(secret), cancellationToken);
        await RecordAsync("token_created", record.Id, createdBy, new Dictionary<string, string>
        {
            ["token_actor"] = record.Actor,
            ["teams"] = string.Join(',', record.Teams),
            ["expires_at"] = record.ExpiresAt is { } expires ? expires.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : "never",
        }, cancellationToken);
        return new CreatedToken(record, secret);
    }

    /// <summary>The usable token for <paramref name="secret"/>, or null (unknown, revoked or expired).</summary>
    public async Task<ApiTokenRecord?> AuthenticateAsync(string secret, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(secret) || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var token = await tokens.FindByHashAsync(Hash(secret), cancellationToken);
        var now = time.GetUtcNow();
        if (token is null || !token.IsUsableAt(now))
        {
            return null;
        }

        if (token.LastUsedAt is null || now - token.LastUsedAt >= TouchInterval)
        {
            await tokens.TouchAsync(token.Id, now, cancellationToken);
        }

        return token;
    }

    /// <summary>Every token (never the secrets).</summary>
    public Task<IReadOnlyList<ApiTokenRecord>> ListAsync(CancellationToken cancellationToken) => tokens.ListAsync(cancellationToken);

    /// <summary>Revokes a token by id; a <see cref="UserInputException"/> when there is no usable token with that id.</summary>
    public async Task RevokeAsync(string id, string actor, CancellationToken cancellationToken)
    {
        if (!await tokens.RevokeAsync(id, actor, time.GetUtcNow(), cancellationToken))
        {
            throw new UserInputException($"no active token with id {id} (see airlock token list)");
        }

        await RecordAsync("token_revoked", id, actor, new Dictionary<string, string>(), cancellationToken);
    }

    private async Task RecordAsync(string type, string tokenId, string actor, Dictionary<string, string> detail, CancellationToken cancellationToken)
    {
        await evidence.RecordEventAsync(new Airlock.Domain.Evidence.RunEvent(tokenId, type, "*", "*", actor, time.GetUtcNow(), detail), cancellationToken);
    }

    /// <summary>SHA-256 of the secret, lowercase hex: what the store keeps.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
