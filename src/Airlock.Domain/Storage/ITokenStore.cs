namespace Airlock.Domain.Storage;

/// <summary>
/// An API token of the server: who it acts as and for which teams. Only the token's SHA-256 is stored;
/// the secret is shown once, when it is created.
/// </summary>
/// <param name="Id">Public id, e.g. tok-3f2a9c1b7d (safe to show and to revoke by).</param>
/// <param name="Actor">The identity every request made with the token acts as (approver, requester…).</param>
/// <param name="Teams">Teams the token was issued for, as given to <c>airlock token create --teams</c>.</param>
/// <param name="CreatedBy">Who created it.</param>
/// <param name="CreatedAt">When.</param>
/// <param name="ExpiresAt">When it stops working; null for no expiry.</param>
/// <param name="RevokedAt">When it was revoked; null while usable.</param>
/// <param name="RevokedBy">Who revoked it.</param>
/// <param name="LastUsedAt">Last successful authentication (coarse: updated at most once a minute).</param>
public sealed record ApiTokenRecord(
    string Id,
    string Actor,
    IReadOnlyList<string> Teams,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy,
    DateTimeOffset? LastUsedAt)
{
    /// <summary>True when the token authenticates at <paramref name="now"/>.</summary>
    public bool IsUsableAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || now < ExpiresAt);
}

/// <summary>API tokens, stored by hash.</summary>
public interface ITokenStore
{
    /// <summary>Stores a new token under its hash.</summary>
    Task CreateAsync(ApiTokenRecord token, string tokenHash, CancellationToken cancellationToken);

    /// <summary>The token with this hash (revoked and expired ones included: the caller decides), or null.</summary>
    Task<ApiTokenRecord?> FindByHashAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Every token, newest first.</summary>
    Task<IReadOnlyList<ApiTokenRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Revokes a token; false when no usable token has that id.</summary>
    Task<bool> RevokeAsync(string id, string actor, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Records a use (throttled by the caller).</summary>
    Task TouchAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);
}
