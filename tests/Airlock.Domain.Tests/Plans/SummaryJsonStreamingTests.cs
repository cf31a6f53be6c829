using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Plans;
using Airlock.Domain.Serialization;

namespace Airlock.Domain.Tests.Plans;

/// <summary>The streamed summary JSON and digest must be the bytes the node tree gives (approvals bind to the digest).</summary>
public class SummaryJsonStreamingTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static TheoryData<string> Fixtures() => [.. PlanTestInput.TerraformFixtures(), .. PlanTestInput.PulumiFixtures()];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Streamed_json_and_digest_equal_the_node_tree(string path) => AssertSame(PlanTestInput.File(path));

    [Fact]
    public void Streamed_json_and_digest_equal_the_node_tree_with_every_optional_field()
    {
        // No fixture has a target, create-before-destroy, deposed or "<" in a detail: built by hand.
        var summary = PlanTestInput.Fixture("realistic-plans", "checkov-terragoat-aws-55-creates.json");
        var first = summary.Resources[0] with
        {
            ReplaceOrder = ReplaceOrder.CreateBeforeDestroy,
            PreviousAddress = "aws_s3_bucket.old",
            Importing = new ImportingInfo("id-1", """{"arn":"x"}"""),
            Deposed = "00000001",
            ReplacePaths = ["tags.<Name>", "ü"],
            ActionReason = "replace_because_tainted",
            TagOnly = true,
            ChangedPaths = ["tags.Name", "tags_all.Name"],
        };
        AssertSame(summary with
        {
            Resources = [first, .. summary.Resources.Skip(1)],
            Target = new PlanTarget("123", null, "prod"),
            Risks = [.. summary.Risks, new RiskFinding("destroy", "a.b", "\"quoted\" & <tagged>")],
        });
    }

    private static void AssertSame(PlanSummary summary)
    {
        var tree = PlanSummaryJson.ToJson(summary);
        using var streamed = new MemoryStream();
        PlanSummaryJson.WriteJson(summary, streamed, new JsonWriterOptions { Indented = true, Encoder = Indented.Encoder });
        Assert.Equal(tree.ToJsonString(Indented), System.Text.Encoding.UTF8.GetString(streamed.ToArray()));

        // The digest's input is the tree without the document-only keys.
        var semantic = (JsonObject)tree.DeepClone();
        foreach (var key in (string[])["schema", "format_version", "tool_version", "has_changes", "digest", "artifact_digest"])
        {
            semantic.Remove(key);
        }

        Assert.Equal(CanonicalJson.Sha256Digest(semantic), PlanSummaryJson.Digest(summary));
    }
}
