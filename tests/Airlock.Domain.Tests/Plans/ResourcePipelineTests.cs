using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Plans;

namespace Airlock.Domain.Tests.Plans;

/// <summary>The reader hands resources to a worker thread in batches: order and results must be those of one pass.</summary>
public class ResourcePipelineTests
{
    [Fact]
    public void Many_batches_keep_artifact_order_and_every_risk()
    {
        // 40 copies of a fixture's resource_changes: thousands of resources, well over one batch
        // (256 resources or 96 KiB), and the last batch partly filled.
        var path = PlanTestInput.TerraformFixtures().First(p => p.EndsWith("checkov-terragoat-aws-55-creates.json", StringComparison.Ordinal));
        var single = PlanTestInput.File(path);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var changes = root["resource_changes"]!.AsArray();
        var copies = new JsonArray();
        for (var copy = 0; copy < 40; copy++)
        {
            foreach (var change in changes)
            {
                var item = change!.DeepClone().AsObject();
                item["address"] = $"module.copy{copy}.{item["address"]!.GetValue<string>()}";
                copies.Add(item);
            }
        }

        root["resource_changes"] = copies;
        var summary = PlanReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(root.ToJsonString())));

        var expected = Enumerable.Range(0, 40).SelectMany(copy => single.Resources.Select(r => r with { Address = $"module.copy{copy}.{r.Address}" })).ToList();
        Assert.Equal(expected.Select(r => (r.Address, r.Type, r.Action, string.Join(",", r.ChangedPaths))), summary.Resources.Select(r => (r.Address, r.Type, r.Action, string.Join(",", r.ChangedPaths))));
        var expectedRisks = Enumerable.Range(0, 40).SelectMany(copy => single.Risks.Select(r => r with { Address = $"module.copy{copy}.{r.Address}" }));
        Assert.Equal(expectedRisks, summary.Risks);
        Assert.NotEmpty(single.Risks);
    }

    [Fact]
    public void A_parse_error_after_many_resources_still_reports_its_position()
    {
        var change = PlanTestInput.Change("aws_s3_bucket.b", "aws_s3_bucket", """["delete"]""", before: """{"bucket":"b"}""");
        var plan = PlanTestInput.Plan([.. Enumerable.Repeat(change, 1000), """{"address":"x","type":"t","change":{"actions":["explode"]}}"""]);

        var error = Assert.Throws<PlanParseException>(() => PlanTestInput.Text(plan));

        Assert.Contains("unknown change actions [explode]", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_json_after_many_resources_is_a_json_error()
    {
        var change = PlanTestInput.Change("aws_s3_bucket.b", "aws_s3_bucket", """["delete"]""", before: """{"bucket":"b"}""");
        var plan = PlanTestInput.Plan([.. Enumerable.Repeat(change, 1000)]);

        Assert.Throws<PlanParseException>(() => PlanTestInput.Text(plan[..^40]));
        _ = JsonDocument.Parse(plan);
    }
}
