using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;

using Airlock.Domain.Evidence;
using Airlock.Domain.Locks;
using Airlock.Domain.Serialization;
using Airlock.Domain.Storage;
using Airlock.Store.Sql;

namespace Airlock.Store.Tests;

/// <summary>Raw access to a store's database for tests that tamper with rows.</summary>
internal static class StoreInternals
{
    public static ValueTask<DbConnection> OpenAsync(SqlAirlockStore store) => store.Dialect.OpenAsync(CancellationToken.None);

    public static DbCommand Command(DbConnection connection, string sql, (string Name, object? Value)[] parameters) => connection.Command(null, sql, parameters);
}

/// <summary>Builds and checks minimal chain records (the real hashing lives in the evidence component).</summary>
internal static class ChainRecords
{
    public static ChainRecord Next(ChainRecord? head, string note)
    {
        var sequence = (head?.Sequence ?? 0) + 1;
        var previous = head?.Hash ?? "sha256:" + new string('0', 64);
        var at = DateTimeOffset.UtcNow;
        var payload = CanonicalJson.ToCanonicalString(new JsonObject { ["note"] = note });
        var hash = CanonicalJson.Sha256Digest(new JsonObject { ["sequence"] = sequence, ["previous"] = previous, ["payload"] = payload, ["at"] = at.ToString("O", CultureInfo.InvariantCulture) });
        return new ChainRecord(sequence, "test", null, at, payload, previous, hash);
    }

    public static void AssertLinear(IReadOnlyList<ChainRecord> records, int expectedCount)
    {
        Assert.Equal(expectedCount, records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(i + 1, records[i].Sequence);
            Assert.Equal(i == 0 ? "sha256:" + new string('0', 64) : records[i - 1].Hash, records[i].PreviousHash);
            var at = records[i].RecordedAt.ToString("O", CultureInfo.InvariantCulture);
            Assert.Equal(CanonicalJson.Sha256Digest(new JsonObject { ["sequence"] = records[i].Sequence, ["previous"] = records[i].PreviousHash, ["payload"] = records[i].Payload, ["at"] = at }), records[i].Hash);
        }
    }
}

/// <summary>Wraps the real lock store and records the order of acquisitions and releases.</summary>
internal sealed class OrderRecordingLockStore(ILockStore inner) : ILockStore
{
    public List<LockKey> Acquired { get; } = [];

    public List<LockKey> Released { get; } = [];

    public async Task<LockAttempt> TryAcquireAsync(LockKey key, LockRequest request, CancellationToken cancellationToken)
    {
        var attempt = await inner.TryAcquireAsync(key, request, cancellationToken);
        if (attempt.Acquired)
        {
            Acquired.Add(key);
        }

        return attempt;
    }

    public Task<LockLease?> RenewAsync(LockKey key, long fencingToken, TimeSpan leaseDuration, CancellationToken cancellationToken) => inner.RenewAsync(key, fencingToken, leaseDuration, cancellationToken);

    public async Task<bool> ReleaseAsync(LockKey key, long fencingToken, CancellationToken cancellationToken)
    {
        Released.Add(key);
        return await inner.ReleaseAsync(key, fencingToken, cancellationToken);
    }

    public Task<IReadOnlyList<LockLease>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<long> LastFencingTokenAsync(LockKey key, CancellationToken cancellationToken) => inner.LastFencingTokenAsync(key, cancellationToken);

    public Task<LockLease?> ForceUnlockAsync(LockKey key, string actor, string reason, CancellationToken cancellationToken) => inner.ForceUnlockAsync(key, actor, reason, cancellationToken);

    public Task<bool> ReconcileLapsedAsync(LockKey key, long fencingToken, CancellationToken cancellationToken) => inner.ReconcileLapsedAsync(key, fencingToken, cancellationToken);
}
