using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Plans;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Plans;

public class DigestAndMaterialityTests
{
    private static readonly string[] Fixture = ["realistic-plans", "tfcompliance-aws-lambda-sg-delete-update-drift-outputs.json"];

    [Fact]
    public void Artifact_digest_is_the_sha256_of_the_bytes()
    {
        var path = RepoPaths.Fixture(Fixture);

        var summary = PlanTestInput.File(path);

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), summary.ArtifactDigest);
    }

    [Fact]
    public void Summary_digest_ignores_formatting_but_not_content()
    {
        var path = RepoPaths.Fixture(Fixture);
        var minified = JsonNode.Parse(File.ReadAllText(path))!.ToJsonString();

        var original = PlanTestInput.File(path);
        var reformatted = PlanTestInput.Text(minified);

        Assert.NotEqual(original.ArtifactDigest, reformatted.ArtifactDigest);
        Assert.Equal(PlanSummaryJson.Digest(original), PlanSummaryJson.Digest(reformatted));
        Assert.NotEqual(PlanSummaryJson.Digest(original), PlanSummaryJson.Digest(original with { Resources = original.Resources.Skip(1).ToList() }));
    }

    [Fact]
    public void Summary_json_round_trips_to_the_same_digest()
    {
        var summary = PlanTestInput.Fixture("realistic-plans", "checkov-terragoat-aws-55-creates.json");
        var json = PlanSummaryJson.ToJson(summary).ToJsonString();

        var back = PlanTestInput.Text(json);

        Assert.Equal(PlanSummaryJson.Digest(summary), PlanSummaryJson.Digest(back));
        Assert.Equal(PlanSummaryJson.Digest(summary), PlanSummaryJson.ToJson(summary)["digest"]!.GetValue<string>());
    }

    [Fact]
    public void Summary_json_has_the_stable_keys()
    {
        var json = PlanSummaryJson.ToJson(PlanTestInput.Fixture("tofu-show-json", "tofu-basic-delete.json"));

        Assert.Equal(["create", "update", "replace", "delete", "read", "no_op", "forget"], json["counts"]!.AsObject().Select(p => p.Key));
        Assert.Equal(1, json["counts"]!["delete"]!.GetValue<int>());
        var resource = json["resources"]!.AsArray()[0]!;
        Assert.NotNull(resource["address"]);
        Assert.NotNull(resource["type"]);
        Assert.NotNull(resource["action"]);
        Assert.Equal("destroy", json["risks"]!.AsArray()[0]!["kind"]!.GetValue<string>());
        Assert.StartsWith("sha256:", json["digest"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // ---- materiality --------------------------------------------------------------------------

    private static PlanSummary Summary(params ResourceChange[] resources) => new() { Engine = "terraform", Resources = resources };

    private static ResourceChange R(string address, PlanAction action, params string[] paths) =>
        new() { Address = address, Type = address.Split('.')[0], Action = action, ChangedPaths = paths, TagOnly = paths.Length > 0 && paths.All(p => p.StartsWith("tags", StringComparison.Ordinal)) };

    [Fact]
    public void Same_plan_is_not_material()
    {
        var summary = PlanTestInput.Fixture(Fixture[0], Fixture[1]);

        var result = Materiality.Compare(summary, PlanTestInput.Fixture(Fixture[0], Fixture[1]));

        Assert.False(result.IsMaterial);
        Assert.Empty(result.Reasons);
    }

    [Fact]
    public void A_new_delete_is_material()
    {
        var result = Materiality.Compare(Summary(R("aws_instance.a", PlanAction.Update, "ami")), Summary(R("aws_instance.a", PlanAction.Update, "ami"), R("aws_db_instance.b", PlanAction.Delete)));

        Assert.True(result.IsMaterial);
        Assert.Contains(result.Reasons, r => r.Kind == "delete_added" && r.Address == "aws_db_instance.b");
    }

    [Fact]
    public void An_update_becoming_a_replacement_is_material()
    {
        var result = Materiality.Compare(Summary(R("aws_instance.a", PlanAction.Update, "ami")), Summary(R("aws_instance.a", PlanAction.Replace, "ami")));

        Assert.True(result.IsMaterial);
        Assert.Contains(result.Reasons, r => r.Kind == "replace_added");
    }

    [Fact]
    public void Tag_only_and_description_only_and_output_only_differences_are_not_material()
    {
        var approved = Summary(R("aws_instance.a", PlanAction.Update, "ami"));
        var fresh = Summary(R("aws_instance.a", PlanAction.Update, "ami", "description", "tags.team"), R("aws_instance.b", PlanAction.Update, "tags.owner")) with
        {
            Outputs = [new OutputChange("url", PlanAction.Update, false, false, "\"x\"")],
        };

        var result = Materiality.Compare(approved, fresh);

        Assert.False(result.IsMaterial);
        Assert.Equal(["tag_or_description_only", "tag_only", "output_only"], result.Reasons.Select(r => r.Kind));
    }

    [Fact]
    public void Newly_changing_attribute_is_material()
    {
        var result = Materiality.Compare(Summary(R("aws_db_instance.a", PlanAction.Update, "tags.x")), Summary(R("aws_db_instance.a", PlanAction.Update, "tags.x", "instance_class")));

        Assert.True(result.IsMaterial);
        Assert.Contains("instance_class", Assert.Single(result.Reasons).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_risk_is_material()
    {
        var approved = Summary(R("aws_security_group.a", PlanAction.Update, "ingress"));
        var fresh = approved with { Risks = [new RiskFinding(RiskKinds.PublicIngressAdded, "aws_security_group.a", "tcp/22 from 0.0.0.0/0")] };

        var result = Materiality.Compare(approved, fresh);

        Assert.True(result.IsMaterial);
        Assert.Equal("risk_added", Assert.Single(result.Reasons).Kind);
    }

    [Fact]
    public void Target_change_is_material()
    {
        var approved = Summary() with { Target = new PlanTarget("111111111111", "eu-west-1", "prod") };

        Assert.False(Materiality.Compare(approved, approved).IsMaterial);
        Assert.True(Materiality.Compare(approved, approved with { Target = new PlanTarget("111111111111", "us-east-1", "prod") }).IsMaterial);
        Assert.True(Materiality.Compare(approved, approved with { Target = new PlanTarget("222222222222", "eu-west-1", "prod") }).IsMaterial);
    }

    [Fact]
    public void Fewer_changes_than_approved_is_not_material()
    {
        var approved = Summary(R("aws_instance.a", PlanAction.Update, "ami"), R("aws_instance.b", PlanAction.Create));

        Assert.False(Materiality.Compare(approved, Summary(R("aws_instance.a", PlanAction.Update, "ami"))).IsMaterial);
    }

    [Fact]
    public void Summary_with_a_fresh_plan_file_compares_through_json()
    {
        var plan = PlanTestInput.Fixture("tofu-show-json", "tofu-basic-delete.json");
        var stored = PlanTestInput.Text(PlanSummaryJson.ToJson(plan).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        Assert.False(Materiality.Compare(stored, plan).IsMaterial);
    }
}
