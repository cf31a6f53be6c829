using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

using Airlock.Domain.Serialization;
using Airlock.Domain.Storage;
using Airlock.Store.Plans;

namespace Airlock.Store.Sql;

/// <summary>Plans with their artifact encrypted (AES-GCM) and hashed at rest, shared by both backends.</summary>
internal sealed class SqlPlanArtifactStore(SqlContext context, Lazy<PlanKey> planKey) : IPlanArtifactStore
{
    // Resolved on first use, so commands that never touch plans (airlock locks) need no key.
    private PlanKey key => planKey.Value;

    /// <inheritdoc />
    public void EnsureKeyAvailable() => _ = planKey.Value;

    private const string Columns = "plan_id, stack, environment, commit_sha, plan_digest, artifact_sha256, created_at, expires_at, metadata_json, key_id, nonce, ciphertext, tag, region";

    // The metadata columns of a listing (never the artifact), in the order ReadRecord reads them.
    private const string RecordColumns = "plan_id, stack, environment, commit_sha, plan_digest, artifact_sha256, created_at, expires_at, metadata_json, region";

    private static PlanRecord ReadRecord(System.Data.Common.DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), Db.Instant(r.GetInt64(6)), Db.Instant(r.GetInt64(7)), r.GetString(8), r.NullableString(9));

    public async Task<PlanRecord> SaveAsync(NewPlan plan, ReadOnlyMemory<byte> artifact, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var now = Db.Instant(Db.Ms(context.Time.GetUtcNow()));
        if (plan.ExpiresAt <= now)
        {
            throw new ArgumentException($"plan {plan.PlanId} would already be expired ({plan.ExpiresAt:O})");
        }

        var record = new PlanRecord(plan.PlanId, plan.Stack, plan.Environment, plan.Commit, plan.PlanDigest,
            "sha256:" + Convert.ToHexStringLower(SHA256.HashData(artifact.Span)), now, Db.Instant(Db.Ms(plan.ExpiresAt)), plan.MetadataJson, plan.Region);
        var (nonce, ciphertext, tag) = PlanArtifactCipher.Encrypt(key, artifact.Span, AssociatedData(record, key.KeyId));
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(null, $"INSERT INTO plans ({Columns}) VALUES (@id, @stack, @env, @commit, @digest, @sha, @created, @expires, @meta, @key, @nonce, @ct, @tag, @region)", cancellationToken,
            ("@id", record.PlanId), ("@stack", record.Stack), ("@env", record.Environment), ("@commit", record.Commit), ("@digest", record.PlanDigest),
            ("@sha", record.ArtifactSha256), ("@created", Db.Ms(record.CreatedAt)), ("@expires", Db.Ms(record.ExpiresAt)), ("@meta", record.MetadataJson),
            ("@key", key.KeyId), ("@nonce", nonce), ("@ct", ciphertext), ("@tag", tag), ("@region", record.Region)).ConfigureAwait(false);
        return record;
    }

    public async Task<PlanRecord?> GetAsync(string planId, CancellationToken cancellationToken)
    {
        var row = await ReadRowAsync(planId, cancellationToken).ConfigureAwait(false);
        return row?.Record;
    }

    public async Task<PlanRecord?> LatestAsync(string stack, string environment, string? region, CancellationToken cancellationToken)
    {
        // Metadata columns only: the newest plan's artifact may be large and is not needed here. The region
        // filter is text ("IS NULL" or "= @region") so PostgreSQL never has to type an untyped null.
        var regionFilter = region is null ? "region IS NULL" : "region = @region";
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null,
            $"SELECT {RecordColumns} FROM plans WHERE stack = @stack AND environment = @env AND {regionFilter} ORDER BY created_at DESC, plan_id DESC LIMIT 1",
            ReadRecord,
            cancellationToken, region is null ? [("@stack", stack), ("@env", environment)] : [("@stack", stack), ("@env", environment), ("@region", region)]).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<IReadOnlyList<PlanRecord>> ListAsync(PlanQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        // Filters as text so each query uses its index (plans_newest, plans_by_target, plans_by_environment).
        var filters = new List<string>();
        var parameters = new List<(string, object?)> { ("@limit", query.Limit) };
        if (query.Stack is not null)
        {
            filters.Add("stack = @stack");
            parameters.Add(("@stack", query.Stack));
        }

        if (query.Environment is not null)
        {
            filters.Add("environment = @env");
            parameters.Add(("@env", query.Environment));
        }

        var where = filters.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", filters);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null,
            $"SELECT {RecordColumns} FROM plans{where} ORDER BY created_at DESC, plan_id DESC LIMIT @limit",
            ReadRecord,
            cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    public async Task<byte[]> ReadArtifactAsync(string planId, CancellationToken cancellationToken)
    {
        var row = await ReadRowAsync(planId, cancellationToken).ConfigureAwait(false) ?? throw new PlanArtifactException(planId, "no such plan");
        if (row.KeyId != key.KeyId)
        {
            throw new PlanArtifactException(planId, $"artifact was encrypted with key {row.KeyId}, but the configured plan key is {key.KeyId}");
        }

        if (!PlanArtifactCipher.TryDecrypt(key, row.Nonce, row.Ciphertext, row.Tag, AssociatedData(row.Record, row.KeyId), out var plaintext))
        {
            throw new PlanArtifactException(planId, "artifact or its metadata was tampered with (AES-GCM authentication failed); re-plan");
        }

        var sha = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(plaintext));
        if (sha != row.Record.ArtifactSha256)
        {
            throw new PlanArtifactException(planId, $"artifact hash {sha} does not match the recorded {row.Record.ArtifactSha256}; re-plan");
        }

        var now = context.Time.GetUtcNow();
        if (row.Record.ExpiresAt <= now)
        {
            throw new PlanArtifactException(planId, $"expired at {row.Record.ExpiresAt:O} ({(now - row.Record.ExpiresAt).TotalMinutes:F0} min ago); re-plan and re-approve");
        }

        return plaintext;
    }

    private async Task<PlanRow?> ReadRowAsync(string planId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, $"SELECT {Columns} FROM plans WHERE plan_id = @id", ReadRow, cancellationToken, ("@id", planId)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    private static PlanRow ReadRow(DbDataReader r) => new(
        new PlanRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), Db.Instant(r.GetInt64(6)), Db.Instant(r.GetInt64(7)), r.GetString(8), r.NullableString(13)),
        r.GetString(9),
        (byte[])r.GetValue(10),
        (byte[])r.GetValue(11),
        (byte[])r.GetValue(12));

    // Canonical JSON of every metadata field, so any edit to the row's metadata fails authentication.
    // The region joins only when set, so plans stored before regions existed still authenticate.
    private static byte[] AssociatedData(PlanRecord record, string keyId)
    {
        var data = new JsonObject
        {
            ["plan_id"] = record.PlanId,
            ["stack"] = record.Stack,
            ["environment"] = record.Environment,
            ["commit"] = record.Commit,
            ["plan_digest"] = record.PlanDigest,
            ["artifact_sha256"] = record.ArtifactSha256,
            ["created_at"] = Db.Ms(record.CreatedAt),
            ["expires_at"] = Db.Ms(record.ExpiresAt),
            ["metadata"] = record.MetadataJson,
            ["key_id"] = keyId,
        };
        if (record.Region is not null)
        {
            data["region"] = record.Region;
        }

        return CanonicalJson.ToUtf8Bytes(data);
    }

    private sealed record PlanRow(PlanRecord Record, string KeyId, byte[] Nonce, byte[] Ciphertext, byte[] Tag);
}
