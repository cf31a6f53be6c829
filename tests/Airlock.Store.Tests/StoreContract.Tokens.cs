using Airlock.Domain.Storage;

namespace Airlock.Store.Tests;

/// <summary>API tokens: stored by hash, found by hash, revoked once, listed newest first.</summary>
public abstract partial class StoreContract<TBackend>
{
    [Fact]
    public async Task Tokens_are_found_by_hash_revoked_once_and_listed_newest_first()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var first = new ApiTokenRecord("tok-1", "alice@example.com", ["platform", "sre"], "admin@example.com", time.GetUtcNow(), null, null, null, null);
        await store.Tokens.CreateAsync(first, "hash-1", default);
        time.Advance(TimeSpan.FromSeconds(1));
        var second = first with { Id = "tok-2", Actor = "bob@example.com", Teams = [], CreatedAt = time.GetUtcNow(), ExpiresAt = time.GetUtcNow().AddDays(1) };
        await store.Tokens.CreateAsync(second, "hash-2", default);

        var found = await store.Tokens.FindByHashAsync("hash-1", default);
        Assert.Equal("alice@example.com", found!.Actor);
        Assert.Equal(["platform", "sre"], found.Teams);
        Assert.Null(await store.Tokens.FindByHashAsync("nope", default));
        Assert.Equal(["tok-2", "tok-1"], (await store.Tokens.ListAsync(default)).Select(t => t.Id));

        Assert.True(await store.Tokens.RevokeAsync("tok-1", "admin@example.com", time.GetUtcNow(), default));
        Assert.False(await store.Tokens.RevokeAsync("tok-1", "admin@example.com", time.GetUtcNow(), default));
        Assert.False(await store.Tokens.RevokeAsync("tok-unknown", "admin@example.com", time.GetUtcNow(), default));
        var revoked = (await store.Tokens.FindByHashAsync("hash-1", default))!;
        Assert.False(revoked.IsUsableAt(time.GetUtcNow()));
        Assert.Equal("admin@example.com", revoked.RevokedBy);

        var expiring = (await store.Tokens.FindByHashAsync("hash-2", default))!;
        Assert.True(expiring.IsUsableAt(time.GetUtcNow()));
        Assert.False(expiring.IsUsableAt(time.GetUtcNow().AddDays(1)));
        await store.Tokens.TouchAsync("tok-2", time.GetUtcNow(), default);
        Assert.Equal(time.GetUtcNow(), (await store.Tokens.FindByHashAsync("hash-2", default))!.LastUsedAt);

        // The hash is unique: the same secret cannot be registered twice.
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => store.Tokens.CreateAsync(first with { Id = "tok-3" }, "hash-2", default));
    }
}
