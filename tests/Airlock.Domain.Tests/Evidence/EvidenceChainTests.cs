using System.Text.Json.Nodes;

using Airlock.Domain.Evidence;
using Airlock.Domain.Serialization;

namespace Airlock.Domain.Tests.Evidence;

public class EvidenceChainTests
{
    [Fact]
    public void Record_hash_is_sha256_of_the_canonical_json_of_its_fields()
    {
        var payload = EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet());
        var record = EvidenceChain.CreateNext(null, EvidenceChain.PacketKind, "run-1", EvidenceSamples.T0.AddTicks(12_345_678), payload);

        var expected = CanonicalJson.Sha256Digest(new JsonObject
        {
            ["sequence"] = 1,
            ["kind"] = EvidenceChain.PacketKind,
            ["run_id"] = "run-1",
            ["recorded_at"] = EvidenceChain.FormatTime(record.RecordedAt),
            ["payload"] = JsonNode.Parse(payload),
            ["previous_hash"] = EvidenceChain.GenesisHash,
        });

        Assert.Equal(expected, record.Hash);
        Assert.True(EvidenceChain.IsCanonical(record.Payload));
    }

    [Fact]
    public void Null_run_id_is_hashed_as_json_null()
    {
        var record = EvidenceChain.CreateNext(null, "note", null, EvidenceSamples.T0, "{\"a\":1}");

        var expected = CanonicalJson.Sha256Digest(new JsonObject
        {
            ["sequence"] = 1,
            ["kind"] = "note",
            ["run_id"] = null,
            ["recorded_at"] = "2026-11-25T09:00:00.000000Z",
            ["payload"] = new JsonObject { ["a"] = 1 },
            ["previous_hash"] = EvidenceChain.GenesisHash,
        });
        Assert.Equal(expected, record.Hash);
    }

    [Fact]
    public void Next_record_links_to_the_head_and_counts_on()
    {
        var first = EvidenceChain.CreateNext(null, "note", null, EvidenceSamples.T0, "{}");
        var second = EvidenceChain.CreateNext(first, "note", null, EvidenceSamples.T0, "{}");

        Assert.Equal(EvidenceChain.GenesisHash, first.PreviousHash);
        Assert.Matches("^sha256:0{64}$", EvidenceChain.GenesisHash);
        Assert.Equal(2, second.Sequence);
        Assert.Equal(first.Hash, second.PreviousHash);
        Assert.NotEqual(first.Hash, second.Hash);
    }

    [Fact]
    public void Record_time_is_kept_to_the_microsecond_so_postgres_round_trips_it()
    {
        var time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var record = EvidenceChain.CreateNext(null, "note", null, time, "{}");

        Assert.Equal(0, record.RecordedAt.UtcTicks % 10);
        Assert.Equal(TimeSpan.Zero, record.RecordedAt.Offset);
        Assert.Equal("2026-01-02T01:04:05.123456Z", EvidenceChain.FormatTime(record.RecordedAt));
        Assert.Equal(record.RecordedAt, EvidenceChain.ParseTime(EvidenceChain.FormatTime(record.RecordedAt)));
    }

    [Fact]
    public void Ndjson_record_line_round_trips_exactly()
    {
        var payload = EvidenceJson.ToCanonicalPayload(EvidenceSamples.Event("run-9", "approved"));
        var record = EvidenceChain.CreateNext(null, EvidenceChain.RunEventKind, "run-9", EvidenceSamples.T0, payload);

        var line = EvidenceNdjson.RecordToString(record);
        var parsed = Assert.IsType<RecordLine>(EvidenceNdjson.ParseLine(System.Text.Encoding.UTF8.GetBytes(line), 7));

        Assert.Equal(record, parsed.Record);
        Assert.Equal(7, parsed.LineNumber);
        Assert.StartsWith("{\"type\":\"record\",\"sequence\":1,", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("{\"type\":\"record\",\"sequence\":1}", "missing \"kind\"")]
    [InlineData("{\"type\":\"bogus\"}", "unknown line type")]
    [InlineData("{\"type\":\"record\",\"extra\":1}", "unknown member \"extra\"")]
    [InlineData("{\"type\":\"checkpoint\",\"sequence\":\"x\"}", "unexpected value type")]
    public void Bad_lines_are_rejected_with_the_reason(string line, string reason)
    {
        var ex = Assert.Throws<EvidenceFormatException>(() => EvidenceNdjson.ParseLine(System.Text.Encoding.UTF8.GetBytes(line), 3));

        Assert.Equal(3, ex.LineNumber);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }
}
