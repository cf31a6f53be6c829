using Airlock.Domain.Evidence;

namespace Airlock.Domain.Tests.Evidence;

public class EvidenceQueriesTests
{
    private static readonly DateTimeOffset T0 = EvidenceSamples.T0;

    private static async IAsyncEnumerable<ChainRecord> Stream(IEnumerable<ChainRecord> records)
    {
        foreach (var record in records)
        {
            await Task.Yield();
            yield return record;
        }
    }

    private static List<ChainRecord> History()
    {
        var records = new List<ChainRecord>();
        void Add(string kind, string runId, string payload) =>
            records.Add(EvidenceChain.CreateNext(records.LastOrDefault(), kind, runId, T0.AddMinutes(records.Count), payload));

        Add(EvidenceChain.RunEventKind, "r1", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Event("r1", "queued", "network", "prod", "alice", T0)));
        Add(EvidenceChain.PacketKind, "r1", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("r1", "network", "prod", "succeeded", null, "alice", T0.AddMinutes(10), "app:v1.4.2-infra:v0.9.0")));
        Add(EvidenceChain.PacketKind, "r2", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("r2", "network", "staging", "failed", "state_lock", "bob", T0.AddHours(1))));
        Add(EvidenceChain.PacketKind, "r3", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("r3", "dns", "prod", "failed", "state_lock", "alice", T0.AddHours(2))));
        Add(EvidenceChain.PacketKind, "r4", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("r4", "dns", "prod", "failed", "auth_expired", "carol", T0.AddHours(3))));
        Add(EvidenceChain.RunEventKind, "r5", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Event("r5", "apply_started", "dns", "prod", "dave", T0.AddHours(4))));
        Add(EvidenceChain.PacketKind, "r6", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("r6", "app", "prod", "succeeded", null, "erin", T0.AddHours(5), "app:v1.5.0-rc.1-infra:v1.0.0", "unrelated")));
        Add(EvidenceChain.PacketKind, "r2", EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("r2", "network", "staging", "succeeded", null, "bob", T0.AddHours(6))));
        return records;
    }

    [Theory]
    [InlineData(null, null, null, null, "r1,r2,r3,r4,r5,r6")]
    [InlineData("network", null, null, null, "r1,r2")]
    [InlineData(null, "prod", null, null, "r1,r3,r4,r5,r6")]
    [InlineData("dns", "prod", "alice", null, "r3")]
    [InlineData(null, null, null, "failed", "r3,r4")]
    [InlineData(null, null, null, "in_progress", "r5")]
    [InlineData(null, null, "dave", null, "r5")]
    public async Task Runs_filter_by_stack_environment_actor_and_status(string? stack, string? env, string? actor, string? status, string expected)
    {
        var runs = await EvidenceQueries.Runs(Stream(History()), new RunFilter(stack, env, null, null, actor, status), CancellationToken.None);

        Assert.Equal(expected, string.Join(',', runs.Select(r => r.RunId)));
    }

    [Fact]
    public async Task Runs_filter_by_time_and_fold_retried_attempts()
    {
        var runs = await EvidenceQueries.Runs(Stream(History()), new RunFilter(Since: T0.AddHours(2.5)), CancellationToken.None);

        Assert.Equal("r2,r4,r5,r6", string.Join(',', runs.Select(r => r.RunId)));
        var retried = runs.Single(r => r.RunId == "r2");
        Assert.Equal(2, retried.Attempts);
        Assert.Equal("succeeded", retried.Status);
        Assert.Equal(3, retried.FirstSequence);
        Assert.Equal(8, retried.LastSequence);
    }

    [Fact]
    public async Task Failures_are_grouped_by_class_most_frequent_first()
    {
        var history = History();
        history.Add(EvidenceChain.CreateNext(history[^1], EvidenceChain.PacketKind, "r7", T0.AddHours(7), EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("r7", "dns", "dev", "failed", "state_lock", "bob", T0.AddHours(7)))));
        var runs = await EvidenceQueries.Runs(Stream(history), new RunFilter(), CancellationToken.None);

        var failures = EvidenceQueries.FailuresByClass(runs);

        // r2 failed once but its retry succeeded, so it is not a failed run.
        Assert.Equal(2, failures.Count);
        Assert.Equal(("state_lock", 2), (failures[0].FailureClass, failures[0].Count));
        Assert.Equal(["r3", "r7"], failures[0].RunIds);
        Assert.Equal(("auth_expired", 1), (failures[1].FailureClass, failures[1].Count));
    }

    [Fact]
    public async Task App_versions_map_to_the_infra_version_they_were_deployed_with()
    {
        var runs = await EvidenceQueries.Runs(Stream(History()), new RunFilter(), CancellationToken.None);

        var all = EvidenceQueries.AppInfraVersions(runs);
        var rc = EvidenceQueries.InfraForApp(runs, "v1.5.0-rc.1");

        Assert.Equal(["v1.4.2→v0.9.0", "v1.5.0-rc.1→v1.0.0"], all.Select(v => $"{v.AppVersion}→{v.InfraVersion}"));
        Assert.Equal("r6", Assert.Single(rc).RunId);
        Assert.Empty(EvidenceQueries.InfraForApp(runs, "v9.9.9"));
    }

    [Theory]
    [InlineData("app:v1-infra:v2", "v1", "v2")]
    [InlineData("app:v1.0.0-rc.1-infra:v0.1.0-beta", "v1.0.0-rc.1", "v0.1.0-beta")]
    [InlineData("infra:v1", null, null)]
    [InlineData("app:v1-infra:", null, null)]
    [InlineData("app:-infra:v1", null, null)]
    public void App_infra_tags_parse(string tag, string? app, string? infra)
    {
        var parsed = EvidenceQueries.ParseAppInfraTag(tag);

        Assert.Equal(app, parsed?.App);
        Assert.Equal(infra, parsed?.Infra);
    }

    [Fact]
    public async Task Show_returns_every_record_of_one_run_in_chain_order()
    {
        var records = new List<ChainRecord>();
        await foreach (var record in EvidenceQueries.RunRecords(Stream(History()), "r2", CancellationToken.None))
        {
            records.Add(record);
        }

        Assert.Equal([3L, 8L], records.Select(r => r.Sequence));
    }
}
