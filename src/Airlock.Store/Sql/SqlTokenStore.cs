using System.Data.Common;

using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>API tokens, shared by both backends. The secret never reaches the database: only its SHA-256.</summary>
internal sealed class SqlTokenStore(SqlContext context) : ITokenStore
{
    private const string Columns = "id, actor, teams, created_by, created_at, expires_at, revoked_at, revoked_by, last_used_at";

    public async Task CreateAsync(ApiTokenRecord token, string tokenHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenHash);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(null,
            $"INSERT INTO api_tokens (token_hash, {Columns}) VALUES (@hash, @id, @actor, @teams, @by, @at, @expires, NULL, NULL, NULL)",
            cancellationToken,
            ("@hash", tokenHash), ("@id", token.Id), ("@actor", token.Actor), ("@teams", string.Join(',', token.Teams)),
            ("@by", token.CreatedBy), ("@at", Db.Ms(token.CreatedAt)), ("@expires", token.ExpiresAt is { } e ? Db.Ms(e) : null)).ConfigureAwait(false);
    }

    public async Task<ApiTokenRecord?> FindByHashAsync(string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, $"SELECT {Columns} FROM api_tokens WHERE token_hash = @hash", Read, cancellationToken, ("@hash", tokenHash)).ConfigureAwait(false);
        return rows.SingleOrDefault();
    }

    public async Task<IReadOnlyList<ApiTokenRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null, $"SELECT {Columns} FROM api_tokens ORDER BY created_at DESC, id DESC", Read, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RevokeAsync(string id, string actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(null,
            "UPDATE api_tokens SET revoked_at = @at, revoked_by = @actor WHERE id = @id AND revoked_at IS NULL",
            cancellationToken, ("@at", Db.Ms(at)), ("@actor", actor), ("@id", id)).ConfigureAwait(false);
        return changed == 1;
    }

    public async Task TouchAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(null, "UPDATE api_tokens SET last_used_at = @at WHERE id = @id", cancellationToken, ("@at", Db.Ms(at)), ("@id", id)).ConfigureAwait(false);
    }

    private static ApiTokenRecord Read(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries), r.GetString(3), Db.Instant(r.GetInt64(4)),
            Db.Instant(r.NullableInt64(5)), Db.Instant(r.NullableInt64(6)), r.NullableString(7), Db.Instant(r.NullableInt64(8)));
}
