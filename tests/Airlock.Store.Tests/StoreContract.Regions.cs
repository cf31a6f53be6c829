using System.Text;

using Airlock.Domain.Storage;
using Airlock.Store.Sql;

namespace Airlock.Store.Tests;

/// <summary>The contract for regions as a target dimension: plans and runs per (stack, environment, region).</summary>
public abstract partial class StoreContract<TBackend>
{
    [Fact]
    public async Task A_plan_for_one_region_never_supersedes_another_regions_plan()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var artifact = Encoding.UTF8.GetBytes("{}");
        var expires = time.GetUtcNow().AddHours(1);
        var west = await store.Plans.SaveAsync(new NewPlan("p-west", "network", "prod", "c1", "sha256:a", expires, "{}", "us-west-2"), artifact, default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Plans.SaveAsync(new NewPlan("p-east", "network", "prod", "c1", "sha256:b", expires, "{}", "us-east-1"), artifact, default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Plans.SaveAsync(new NewPlan("p-none", "network", "prod", "c1", "sha256:c", expires, "{}"), artifact, default);

        Assert.Equal("us-west-2", west.Region);
        Assert.Equal(west, await store.Plans.LatestAsync("network", "prod", "us-west-2", default));
        Assert.Equal("p-east", (await store.Plans.LatestAsync("network", "prod", "us-east-1", default))!.PlanId);
        Assert.Equal("p-none", (await store.Plans.LatestAsync("network", "prod", null, default))!.PlanId);
        Assert.Equal("p-none", (await store.Plans.LatestAsync("network", "prod", default))!.PlanId);
        Assert.Null(await store.Plans.LatestAsync("network", "prod", "eu-west-1", default));
        Assert.Equal("us-east-1", (await store.Plans.GetAsync("p-east", default))!.Region);

        time.Advance(TimeSpan.FromMinutes(1));
        await store.Plans.SaveAsync(new NewPlan("p-west-2", "network", "prod", "c2", "sha256:d", time.GetUtcNow().AddHours(1), "{}", "us-west-2"), artifact, default);
        Assert.Equal("p-west-2", (await store.Plans.LatestAsync("network", "prod", "us-west-2", default))!.PlanId);
        Assert.Equal("p-east", (await store.Plans.LatestAsync("network", "prod", "us-east-1", default))!.PlanId);
    }

    [Fact]
    public async Task A_plans_region_is_authenticated_with_its_artifact()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var artifact = Encoding.UTF8.GetBytes("{\"x\":1}");
        await store.Plans.SaveAsync(new NewPlan("p1", "network", "prod", "c1", "sha256:a", time.GetUtcNow().AddHours(1), "{}", "us-west-2"), artifact, default);
        Assert.Equal(artifact, await store.Plans.ReadArtifactAsync("p1", default));

        // Moving a plan to another region behind the store's back must not yield a usable artifact.
        await ExecuteRawAsync(store, "UPDATE plans SET region = 'us-east-1' WHERE plan_id = 'p1'");
        Assert.Contains("tampered", (await Assert.ThrowsAsync<PlanArtifactException>(() => store.Plans.ReadArtifactAsync("p1", default))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_carry_their_region_and_list_by_region()
    {
        var (store, time, _) = await Backend.FreshAsync();
        await using var _s = store;
        var west = await store.Runs.CreateAsync("r-west", "network", "prod", "us-west-2", "queued", "alice", default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Runs.CreateAsync("r-east", "network", "prod", "us-east-1", "queued", "alice", default);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.Runs.CreateAsync("r-none", "network", "prod", "queued", "alice", default);

        Assert.Equal("us-west-2", west.Region);
        Assert.Equal(west, await store.Runs.GetAsync("r-west", default));
        Assert.Null((await store.Runs.GetAsync("r-none", default))!.Region);
        Assert.Equal(["r-west"], (await store.Runs.ListAsync(new RunQuery("network", "prod", Region: "us-west-2"), default)).Select(r => r.Id));
        Assert.Equal(["r-east"], (await store.Runs.ListAsync(new RunQuery(Region: "us-east-1"), default)).Select(r => r.Id));
        Assert.Equal(["r-none", "r-east", "r-west"], (await store.Runs.ListAsync(new RunQuery("network", "prod"), default)).Select(r => r.Id));
        Assert.Equal(["us-east-1"], (await store.Runs.ListAsync(new RunQuery(Region: "us-east-1"), default)).Select(r => r.Region));
        Assert.Empty(await store.Runs.ListAsync(new RunQuery("network", "prod", Region: "eu-west-1"), default));
    }

    [Fact]
    public async Task Rows_from_before_regions_read_back_without_a_region_after_the_upgrade()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var target = await Backend.NewTargetAsync();
        var dialect = Backend.Dialect(target);
        try
        {
            // The last schema without regions: the one right before the region columns exist.
            await Migrations.ApplyAsync(dialect, time, 2, default);
            await using var connection = await dialect.OpenAsync(default);
            await using var command = StoreInternals.Command(connection, "INSERT INTO runs (id, stack, environment, state, created_at, updated_at) VALUES ('old-run', 'network', 'prod', 'succeeded', 1000, 2000)", []);
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            await dialect.DisposeAsync();
        }

        await using var upgraded = await Backend.OpenAsync(target, time);
        var run = Assert.Single(await upgraded.Runs.ListAsync(new RunQuery("network", "prod"), default));
        Assert.Null(run.Region);
        Assert.Empty(await upgraded.Runs.ListAsync(new RunQuery("network", "prod", Region: "us-west-2"), default));
    }
}
