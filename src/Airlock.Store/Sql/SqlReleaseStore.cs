using System.Data.Common;
using System.Text.Json;

using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>
/// Releases, shared by both backends. Ownership changes are single UPDATE statements whose WHERE clause is the
/// compare-and-set condition, so two processes racing for one release cannot both win on either backend.
/// </summary>
internal sealed class SqlReleaseStore(SqlContext context) : IReleaseStore
{
    private const string Columns = "id, name, version, commit_sha, state, created_at, updated_at, detail_json, owner, lease_expires";

    public async Task CreateAsync(ReleaseRecord release, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentException.ThrowIfNullOrWhiteSpace(release.Id);
        ArgumentException.ThrowIfNullOrWhiteSpace(release.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(release.Version);
        ArgumentException.ThrowIfNullOrWhiteSpace(release.State);
        JsonDetail.RequireObject(release.DetailJson, "release detail_json");
        if ((release.Owner is null) != (release.LeaseExpires is null))
        {
            throw new ArgumentException("a release is created with both an owner and a lease expiry, or neither", nameof(release));
        }

        try
        {
            await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
            await connection.ExecuteAsync(null,
                $"INSERT INTO releases ({Columns}) VALUES (@id, @name, @version, @commit, @state, @created, @updated, @detail, @owner, @lease)",
                ct, ("@id", release.Id), ("@name", release.Name), ("@version", release.Version), ("@commit", release.Commit), ("@state", release.State),
                ("@created", Db.Ms(release.CreatedAt)), ("@updated", Db.Ms(release.UpdatedAt)), ("@detail", release.DetailJson), ("@owner", release.Owner),
                ("@lease", release.LeaseExpires is { } lease ? Db.Ms(lease) : null)).ConfigureAwait(false);
        }
        catch (DbException error) when (context.Dialect.IsUniqueViolation(error))
        {
            throw new ReleaseAlreadyExistsException(release.Id);
        }
    }

    public async Task<ReleaseRecord?> GetAsync(string id, CancellationToken ct)
    {
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, $"SELECT {Columns} FROM releases WHERE id = @id", Read, ct, ("@id", id)).ConfigureAwait(false);
        return rows.SingleOrDefault();
    }

    public async Task<IReadOnlyList<ReleaseRecord>> ListAsync(int limit, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        return await connection.QueryAsync(null, $"SELECT {Columns} FROM releases ORDER BY created_at DESC, id DESC LIMIT @limit", Read, ct, ("@limit", limit)).ConfigureAwait(false);
    }

    public async Task<bool> SaveAsync(string id, string owner, string state, string detailJson, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentException.ThrowIfNullOrWhiteSpace(state);
        JsonDetail.RequireObject(detailJson, "release detail_json");
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        return await connection.ExecuteAsync(null,
            "UPDATE releases SET state = @state, detail_json = @detail, updated_at = @at WHERE id = @id AND owner = @owner",
            ct, ("@state", state), ("@detail", detailJson), ("@at", Db.Ms(at)), ("@id", id), ("@owner", owner)).ConfigureAwait(false) == 1;
    }

    public async Task<ReleaseRecord?> TryTakeAsync(string id, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null,
            $"UPDATE releases SET owner = @owner, lease_expires = @expires WHERE id = @id AND (owner IS NULL OR lease_expires <= @now) RETURNING {Columns}",
            Read, ct, ("@owner", owner), ("@expires", Db.Ms(now + lease)), ("@id", id), ("@now", Db.Ms(now))).ConfigureAwait(false);
        return rows.SingleOrDefault();
    }

    public async Task<ReleaseRecord?> TakeOverAsync(string id, string previousOwner, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(previousOwner);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null,
            $"UPDATE releases SET owner = @owner, lease_expires = @expires WHERE id = @id AND owner = @previous RETURNING {Columns}",
            Read, ct, ("@owner", owner), ("@expires", Db.Ms(now + lease)), ("@id", id), ("@previous", previousOwner)).ConfigureAwait(false);
        return rows.SingleOrDefault();
    }

    public async Task<bool> RenewAsync(string id, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        // A lapsed lease nobody took over is still ours: ownership is the owner column, the lease only says when others may take it.
        return await connection.ExecuteAsync(null,
            "UPDATE releases SET lease_expires = @expires WHERE id = @id AND owner = @owner",
            ct, ("@expires", Db.Ms(now + lease)), ("@id", id), ("@owner", owner)).ConfigureAwait(false) == 1;
    }

    public async Task ReleaseOwnershipAsync(string id, string owner, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        await connection.ExecuteAsync(null, "UPDATE releases SET owner = NULL, lease_expires = NULL WHERE id = @id AND owner = @owner",
            ct, ("@id", id), ("@owner", owner)).ConfigureAwait(false);
    }

    private static ReleaseRecord Read(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.GetString(4), Db.Instant(r.GetInt64(5)), Db.Instant(r.GetInt64(6)),
            r.GetString(7), r.NullableString(8), Db.Instant(r.NullableInt64(9)));
}

/// <summary>Detail columns hold JSON objects; refusing anything else up front keeps bad rows out of both backends.</summary>
internal static class JsonDetail
{
    public static void RequireObject(string json, string what)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return;
            }
        }
        catch (JsonException)
        {
            // Reported below, with the same message as any other non-object.
        }

        throw new ArgumentException($"{what} must be a JSON object (\"{{}}\" when there is nothing to add)", nameof(json));
    }
}
