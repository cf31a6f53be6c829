using Airlock.Domain.Storage;
using Airlock.Store.Sql;

namespace Airlock.Store.Tests;

/// <summary>The contract for releases (ownership leases) and deployments (traceability, one live per target).</summary>
public abstract partial class StoreContract<TBackend>
{
    private const string Sha1 = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
    private const string Sha2 = "fedcba9876543210fedcba9876543210fedcba98";

    private static ReleaseRecord NewRelease(string id, DateTimeOffset at, string? commit = Sha1) =>
        new(id, "checkout", "v1.4.2", commit, "planning", at, at, "{\"environments\":[]}", null, null);

    private static DeploymentRecord NewDeployment(DateTimeOffset at, string app = "checkout", string env = "prod", string? region = null,
        string appVersion = "v1.4.2", string infraVersion = "v0.9.1", string commit = Sha1, string release = "rel-1", string? color = "green") =>
        new(0, release, app, env, region, appVersion, infraVersion, commit, "blue-green", color, DeploymentOutcomes.Deploying, at, null, "{}");

    [Fact]
    public async Task Releases_are_created_read_and_listed_newest_first_and_a_duplicate_id_is_refused()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var t0 = time.GetUtcNow();
        var first = NewRelease("rel-1", t0);
        var second = NewRelease("rel-2", t0.AddMinutes(5), commit: null) with { Owner = "alice@host pid 7", LeaseExpires = t0.AddMinutes(6) };
        var third = NewRelease("rel-0", t0.AddMinutes(5));
        await store.Releases.CreateAsync(first, default);
        await store.Releases.CreateAsync(second, default);
        await store.Releases.CreateAsync(third, default);

        Assert.Equal(first, await store.Releases.GetAsync("rel-1", default));
        Assert.Equal(second, await store.Releases.GetAsync("rel-2", default));
        Assert.Null(await store.Releases.GetAsync("nope", default));
        // Same creation instant: the id breaks the tie, descending.
        Assert.Equal(["rel-2", "rel-0", "rel-1"], (await store.Releases.ListAsync(10, default)).Select(r => r.Id));
        Assert.Equal(["rel-2"], (await store.Releases.ListAsync(1, default)).Select(r => r.Id));

        var duplicate = await Assert.ThrowsAsync<ReleaseAlreadyExistsException>(() => store.Releases.CreateAsync(first with { Name = "other" }, default));
        Assert.Contains("rel-1", duplicate.Message, StringComparison.Ordinal);
        Assert.Equal(first, await store.Releases.GetAsync("rel-1", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Releases.CreateAsync(NewRelease("rel-bad", t0) with { DetailJson = "[1]" }, default));
        Assert.Null(await store.Releases.GetAsync("rel-bad", default));
    }

    [Fact]
    public async Task Only_one_of_two_store_instances_racing_to_take_a_release_wins()
    {
        var (store, time, target) = await Backend.FreshAsync();
        await using var _s = store;
        await using var other = await Backend.OpenAsync(target, time);
        var now = time.GetUtcNow();
        for (var round = 0; round < 5; round++)
        {
            var id = $"rel-{round}";
            await store.Releases.CreateAsync(NewRelease(id, now), default);
            using var go = new ManualResetEventSlim();
            var takes = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                go.Wait();
                var owner = $"proc-{i}@host pid {i}";
                return (Owner: owner, Taken: await (i % 2 == 0 ? store : other).Releases.TryTakeAsync(id, owner, now, TimeSpan.FromMinutes(1), default));
            })).ToList();
            go.Set();
            var results = await Task.WhenAll(takes);
            var winner = Assert.Single(results, r => r.Taken is not null);
            Assert.Equal(winner.Owner, winner.Taken!.Owner);
            Assert.Equal(now.AddMinutes(1), winner.Taken.LeaseExpires);
            Assert.Equal(winner.Taken, await other.Releases.GetAsync(id, default));
        }
    }

    [Fact]
    public async Task An_expired_lease_is_taken_over_and_the_old_owner_can_no_longer_save_renew_or_release()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        const string A = "alice@host-a pid 10";
        const string B = "bob@host-b pid 20";
        var lease = TimeSpan.FromSeconds(30);
        await store.Releases.CreateAsync(NewRelease("rel-1", time.GetUtcNow()), default);
        Assert.NotNull(await store.Releases.TryTakeAsync("rel-1", A, time.GetUtcNow(), lease, default));
        Assert.Null(await store.Releases.TryTakeAsync("rel-1", A, time.GetUtcNow(), lease, default));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await store.Releases.TryTakeAsync("rel-1", B, time.GetUtcNow(), lease, default));
        Assert.True(await store.Releases.RenewAsync("rel-1", A, time.GetUtcNow(), lease, default));
        Assert.Equal(time.GetUtcNow() + lease, (await store.Releases.GetAsync("rel-1", default))!.LeaseExpires);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await store.Releases.TryTakeAsync("rel-1", B, time.GetUtcNow(), lease, default));
        time.Advance(TimeSpan.FromSeconds(1)); // exactly at expiry: lapsed
        var taken = await store.Releases.TryTakeAsync("rel-1", B, time.GetUtcNow(), lease, default);
        Assert.Equal((B, time.GetUtcNow() + lease), (taken!.Owner, taken.LeaseExpires));

        Assert.False(await store.Releases.SaveAsync("rel-1", A, "applying", "{\"by\":\"a\"}", time.GetUtcNow(), default));
        Assert.False(await store.Releases.RenewAsync("rel-1", A, time.GetUtcNow(), lease, default));
        await store.Releases.ReleaseOwnershipAsync("rel-1", A, default);
        Assert.Equal(taken, await store.Releases.GetAsync("rel-1", default));

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(await store.Releases.SaveAsync("rel-1", B, "applying", "{\"by\":\"b\"}", time.GetUtcNow(), default));
        var saved = (await store.Releases.GetAsync("rel-1", default))!;
        Assert.Equal(("applying", "{\"by\":\"b\"}", time.GetUtcNow(), B), (saved.State, saved.DetailJson, saved.UpdatedAt, saved.Owner));

        await store.Releases.ReleaseOwnershipAsync("rel-1", B, default);
        var released = (await store.Releases.GetAsync("rel-1", default))!;
        Assert.Equal((null, null), (released.Owner, released.LeaseExpires));
        Assert.Equal("applying", released.State);
        Assert.NotNull(await store.Releases.TryTakeAsync("rel-1", A, time.GetUtcNow(), lease, default));
        Assert.Null(await store.Releases.TryTakeAsync("unknown", A, time.GetUtcNow(), lease, default));
    }

    [Fact]
    public async Task A_known_dead_owner_is_taken_over_under_its_lease_but_only_while_it_still_owns_the_release()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        const string Dead = "alice@host-a pid 10";
        const string B = "bob@host-a pid 20";
        const string C = "carol@host-a pid 30";
        var lease = TimeSpan.FromSeconds(30);
        await store.Releases.CreateAsync(NewRelease("rel-1", time.GetUtcNow()), default);
        Assert.NotNull(await store.Releases.TryTakeAsync("rel-1", Dead, time.GetUtcNow(), lease, default));

        var taken = await store.Releases.TakeOverAsync("rel-1", Dead, B, time.GetUtcNow(), lease, default);
        var second = await store.Releases.TakeOverAsync("rel-1", Dead, C, time.GetUtcNow(), lease, default);

        Assert.Equal((B, time.GetUtcNow() + lease), (taken!.Owner, taken.LeaseExpires));
        Assert.Null(second); // the dead owner no longer owns it: the compare-and-set fails
        Assert.Equal(B, (await store.Releases.GetAsync("rel-1", default))!.Owner);
        Assert.Null(await store.Releases.TakeOverAsync("unknown", Dead, B, time.GetUtcNow(), lease, default));
    }

    [Fact]
    public async Task Saving_a_release_is_refused_to_a_non_owner_and_when_nobody_holds_it()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var created = NewRelease("rel-1", time.GetUtcNow());
        await store.Releases.CreateAsync(created, default);
        Assert.False(await store.Releases.SaveAsync("rel-1", "alice@h pid 1", "applying", "{}", time.GetUtcNow(), default));
        Assert.False(await store.Releases.RenewAsync("rel-1", "alice@h pid 1", time.GetUtcNow(), TimeSpan.FromMinutes(1), default));
        await store.Releases.TryTakeAsync("rel-1", "alice@h pid 1", time.GetUtcNow(), TimeSpan.FromMinutes(1), default);
        Assert.False(await store.Releases.SaveAsync("rel-1", "mallory@h pid 2", "done", "{}", time.GetUtcNow(), default));
        Assert.False(await store.Releases.SaveAsync("nope", "alice@h pid 1", "done", "{}", time.GetUtcNow(), default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Releases.SaveAsync("rel-1", "alice@h pid 1", "done", "not json", time.GetUtcNow(), default));
        var stored = (await store.Releases.GetAsync("rel-1", default))!;
        Assert.Equal((created.State, created.DetailJson, created.UpdatedAt), (stored.State, stored.DetailJson, stored.UpdatedAt));
    }

    [Fact]
    public async Task Making_a_deployment_live_supersedes_the_previous_live_one_of_the_same_target_only()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var t0 = time.GetUtcNow();
        var v1 = await store.Deployments.StartAsync(NewDeployment(t0, appVersion: "v1.4.1", color: "blue"), default);
        await store.Deployments.FinishAsync(v1, DeploymentOutcomes.Live, null, t0.AddMinutes(1), "{\"health\":\"ok\"}", default);
        // Other targets: another region, the same app with a region, another environment, another app.
        var regional = await store.Deployments.StartAsync(NewDeployment(t0, region: "eu-west-1", appVersion: "v1.4.1"), default);
        await store.Deployments.FinishAsync(regional, DeploymentOutcomes.Live, null, t0.AddMinutes(1), "{}", default);
        var staging = await store.Deployments.StartAsync(NewDeployment(t0, env: "staging"), default);
        await store.Deployments.FinishAsync(staging, DeploymentOutcomes.Live, null, t0.AddMinutes(1), "{}", default);
        var otherApp = await store.Deployments.StartAsync(NewDeployment(t0, app: "payments"), default);
        await store.Deployments.FinishAsync(otherApp, DeploymentOutcomes.Live, null, t0.AddMinutes(1), "{}", default);

        var live = await store.Deployments.LiveAsync("checkout", "prod", null, default);
        Assert.Equal(NewDeployment(t0, appVersion: "v1.4.1", color: "blue") with { Id = v1, Outcome = "live", FinishedAt = t0.AddMinutes(1), DetailJson = "{\"health\":\"ok\"}" }, live);
        Assert.Equal("app:v1.4.1-infra:v0.9.1", live!.Label);

        // A failed attempt leaves the live one alone.
        var failed = await store.Deployments.StartAsync(NewDeployment(t0.AddMinutes(10)), default);
        Assert.Equal(DeploymentOutcomes.Deploying, (await store.Deployments.ListAsync(new DeploymentQuery(ReleaseId: "rel-1", Limit: 1), default))[0].Outcome);
        await store.Deployments.FinishAsync(failed, DeploymentOutcomes.RolledBack, null, t0.AddMinutes(11), "{\"reason\":\"health\"}", default);
        Assert.Equal(v1, (await store.Deployments.LiveAsync("checkout", "prod", null, default))!.Id);

        var v2 = await store.Deployments.StartAsync(NewDeployment(t0.AddMinutes(20)), default);
        await store.Deployments.FinishAsync(v2, DeploymentOutcomes.Live, "green", t0.AddMinutes(21), "{}", default);
        // The colour is known once the deployment ends (blue-green picks the idle one); null keeps what was started with.
        Assert.Equal((v2, "green"), ((await store.Deployments.LiveAsync("checkout", "prod", null, default))!.Id, (await store.Deployments.LiveAsync("checkout", "prod", null, default))!.Color));
        var all = (await store.Deployments.ListAsync(new DeploymentQuery(), default)).ToDictionary(d => d.Id, d => d.Outcome);
        Assert.Equal(DeploymentOutcomes.Superseded, all[v1]);
        Assert.Equal(DeploymentOutcomes.RolledBack, all[failed]);
        Assert.Equal(DeploymentOutcomes.Live, all[regional]);
        Assert.Equal(DeploymentOutcomes.Live, all[staging]);
        Assert.Equal(DeploymentOutcomes.Live, all[otherApp]);
        Assert.Equal(regional, (await store.Deployments.LiveAsync("checkout", "prod", "eu-west-1", default))!.Id);
        Assert.Null(await store.Deployments.LiveAsync("checkout", "prod", "us-east-1", default));
        Assert.Null(await store.Deployments.LiveAsync("checkout", "dev", null, default));

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.Deployments.FinishAsync(9999, DeploymentOutcomes.Live, null, t0, "{}", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Deployments.FinishAsync(v2, "deploying", null, t0, "{}", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Deployments.FinishAsync(v2, "great", null, t0, "{}", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Deployments.StartAsync(NewDeployment(t0) with { Region = " " }, default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Deployments.StartAsync(NewDeployment(t0) with { Outcome = "done" }, default));
        Assert.Equal(6, (await store.Deployments.ListAsync(new DeploymentQuery(), default)).Count); // the refused starts wrote nothing
    }

    [Fact]
    public async Task Two_store_instances_making_deployments_live_at_once_leave_exactly_one_live()
    {
        var (store, time, target) = await Backend.FreshAsync();
        await using var _s = store;
        await using var other = await Backend.OpenAsync(target, time);
        var t0 = time.GetUtcNow();
        var ids = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await store.Deployments.StartAsync(NewDeployment(t0.AddSeconds(i), appVersion: $"v1.{i}"), default));
        }

        using var go = new ManualResetEventSlim();
        var finishes = ids.Select((id, i) => Task.Run(async () =>
        {
            go.Wait();
            await (i % 2 == 0 ? store : other).Deployments.FinishAsync(id, DeploymentOutcomes.Live, null, t0.AddMinutes(1), "{}", default);
        })).ToList();
        go.Set();
        await Task.WhenAll(finishes);
        var outcomes = await store.Deployments.ListAsync(new DeploymentQuery(Application: "checkout"), default);
        var live = Assert.Single(outcomes, d => d.Outcome == DeploymentOutcomes.Live);
        Assert.All(outcomes.Where(d => d.Id != live.Id), d => Assert.Equal(DeploymentOutcomes.Superseded, d.Outcome));
        Assert.Equal(live, await other.Deployments.LiveAsync("checkout", "prod", null, default));
    }

    [Fact]
    public async Task Deployments_are_found_by_app_version_infra_version_commit_prefix_release_and_region_newest_first()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var t0 = time.GetUtcNow();
        var a = await store.Deployments.StartAsync(NewDeployment(t0, env: "dev", appVersion: "v1.4.2", infraVersion: "v0.9.1", commit: Sha1), default);
        var b = await store.Deployments.StartAsync(NewDeployment(t0.AddHours(1), env: "prod", region: "eu-west-1", appVersion: "v1.4.2", infraVersion: "v0.9.1", commit: Sha1), default);
        var c = await store.Deployments.StartAsync(NewDeployment(t0.AddHours(2), env: "prod", region: "us-east-1", appVersion: "v1.4.3", infraVersion: Sha2[..12], commit: Sha2, release: "rel-2"), default);
        var d = await store.Deployments.StartAsync(NewDeployment(t0.AddHours(3), app: "payments", env: "prod", appVersion: "v1.4.2", infraVersion: "v0.9.1", commit: Sha1), default);

        async Task<long[]> Ids(DeploymentQuery query) => [.. (await store.Deployments.ListAsync(query, default)).Select(x => x.Id)];

        Assert.Equal([d, c, b, a], await Ids(new DeploymentQuery()));
        Assert.Equal([d, b, a], await Ids(new DeploymentQuery(AppVersion: "v1.4.2")));
        Assert.Equal([b, a], await Ids(new DeploymentQuery(Application: "checkout", AppVersion: "v1.4.2")));
        Assert.Equal([d, b, a], await Ids(new DeploymentQuery(InfraVersion: "v0.9.1")));
        Assert.Equal([d, b, a], await Ids(new DeploymentQuery(InfraVersion: Sha1[..7])));
        Assert.Equal([d, b, a], await Ids(new DeploymentQuery(InfraVersion: Sha1.ToUpperInvariant()[..10])));
        Assert.Equal([d, b, a], await Ids(new DeploymentQuery(InfraVersion: Sha1)));
        Assert.Equal([c], await Ids(new DeploymentQuery(InfraVersion: Sha2[..12])));
        Assert.Equal([c], await Ids(new DeploymentQuery(InfraVersion: Sha2[..8])));
        // Shorter than 7 characters is no prefix match: "0a1b2c" would be ambiguous.
        Assert.Empty(await Ids(new DeploymentQuery(InfraVersion: Sha1[..6])));
        Assert.Empty(await Ids(new DeploymentQuery(InfraVersion: "v0.9")));
        Assert.Equal([c], await Ids(new DeploymentQuery(ReleaseId: "rel-2")));
        Assert.Equal([b], await Ids(new DeploymentQuery(Region: "eu-west-1")));
        Assert.Equal([d, c, b], await Ids(new DeploymentQuery(Environment: "prod")));
        Assert.Equal([d, c], await Ids(new DeploymentQuery(Environment: "prod", Limit: 2)));
        Assert.Equal([b], await Ids(new DeploymentQuery(Application: "checkout", AppVersion: "v1.4.2", InfraVersion: Sha1[..7], Environment: "prod", Region: "eu-west-1", ReleaseId: "rel-1")));

        var stored = (await store.Deployments.ListAsync(new DeploymentQuery(ReleaseId: "rel-2"), default))[0];
        Assert.Equal(NewDeployment(t0.AddHours(2), env: "prod", region: "us-east-1", appVersion: "v1.4.3", infraVersion: Sha2[..12], commit: Sha2, release: "rel-2") with { Id = c }, stored);
    }

    [Fact]
    public async Task A_database_from_before_releases_upgrades_to_releases_with_ownership_and_deployments_and_re_running_is_a_no_op()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var target = await Backend.NewTargetAsync();
        const int previous = 3; // the last version before release ownership and deployments (version 4)
        var dialect = Backend.Dialect(target);
        try
        {
            Assert.Equal(previous, await Migrations.ApplyAsync(dialect, time, previous, default));
            await using var connection = await dialect.OpenAsync(default);
            await using (var insert = StoreInternals.Command(connection,
                "INSERT INTO releases (id, name, version, state, created_at, updated_at, detail_json) VALUES ('old-rel', 'checkout', 'v1.0.0', 'done', 1000, 2000, '{}')", []))
            {
                await insert.ExecuteNonQueryAsync();
            }

            // Before the upgrade there is no deployments table: this really is the previous schema.
            await using var probe = StoreInternals.Command(connection, "SELECT COUNT(*) FROM deployments", []);
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => probe.ExecuteScalarAsync());
        }
        finally
        {
            await dialect.DisposeAsync();
        }

        var old = new ReleaseRecord("old-rel", "checkout", "v1.0.0", null, "done", DateTimeOffset.FromUnixTimeMilliseconds(1000), DateTimeOffset.FromUnixTimeMilliseconds(2000), "{}", null, null);
        await using (var upgraded = await Backend.OpenAsync(target, time))
        {
            Assert.Equal(Migrations.LatestVersion, upgraded.SchemaVersion);
            Assert.Equal(old, await upgraded.Releases.GetAsync("old-rel", default));
            Assert.NotNull(await upgraded.Releases.TryTakeAsync("old-rel", "alice@h pid 1", time.GetUtcNow(), TimeSpan.FromMinutes(1), default));
            var id = await upgraded.Deployments.StartAsync(NewDeployment(time.GetUtcNow()), default);
            await upgraded.Deployments.FinishAsync(id, DeploymentOutcomes.Live, null, time.GetUtcNow(), "{}", default);
        }

        await using var reopened = await Backend.OpenAsync(target, time);
        Assert.Equal(Migrations.LatestVersion, reopened.SchemaVersion);
        Assert.Equal(AllVersions(), await SchemaVersionsAsync(reopened));
        Assert.Equal("alice@h pid 1", (await reopened.Releases.GetAsync("old-rel", default))!.Owner);
        Assert.Equal("v1.4.2", (await reopened.Deployments.LiveAsync("checkout", "prod", null, default))!.AppVersion);
        Assert.Equal(Migrations.LatestVersion, await Migrations.ApplyAsync(reopened.Dialect, time, previous, default));
        Assert.Equal(AllVersions(), await SchemaVersionsAsync(reopened));
    }
}
