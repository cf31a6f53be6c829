using System.Text.Json;

using Airlock.Domain.Plans;

namespace Airlock.Domain.Tests.Plans;

/// <summary>
/// The reader builds value DOMs only for resources a rule can read (and the unknown/sensitive marks
/// only where a rule or the diff reads them). These tests check that shortcut against running every
/// rule on every resource with all of its values.
/// </summary>
public class RiskValueShortcutTests
{
    public static TheoryData<string> TerraformFixtures() => [.. PlanTestInput.TerraformFixtures()];

    [Theory]
    [MemberData(nameof(TerraformFixtures))]
    public void Streaming_reader_finds_the_same_risks_as_running_every_rule_with_all_values(string path)
    {
        var summary = PlanTestInput.File(path);

        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var expected = new List<RiskFinding>();
        if (document.RootElement.TryGetProperty("resource_changes", out var changes) && changes.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in changes.EnumerateArray())
            {
                var resource = summary.Resources[index++];
                var change = item.GetProperty("change");
                RiskDetector.Detect(
                    new RiskInput(resource, resource.Type, Value(change, "before"), Value(change, "after"), Value(change, "after_sensitive"), Value(change, "after_unknown")),
                    ResourceClassMap.Default,
                    expected);
            }

            Assert.Equal(index, summary.Resources.Count);
        }

        Assert.Equal(expected, summary.Risks);
    }

    [Theory]
    [InlineData(ResourceMode.Managed, PlanAction.NoOp)]
    [InlineData(ResourceMode.Managed, PlanAction.Read)]
    [InlineData(ResourceMode.Managed, PlanAction.Delete)]
    [InlineData(ResourceMode.Managed, PlanAction.Forget)]
    [InlineData(ResourceMode.Data, PlanAction.Create)]
    public void Values_are_not_needed_for_actions_the_value_rules_never_read(ResourceMode mode, PlanAction action)
    {
        Assert.False(RiskDetector.NeedsValues(mode, action, "aws_iam_role", """{"assume_role_policy":"{}","encrypted":false}"""u8));
    }

    [Theory]
    [InlineData(PlanAction.Create)]
    [InlineData(PlanAction.Update)]
    [InlineData(PlanAction.Replace)]
    public void Values_are_needed_for_managed_changes_of_a_type_a_rule_reads(PlanAction action)
    {
        Assert.True(RiskDetector.NeedsValues(ResourceMode.Managed, action, "aws_iam_role", "{}"u8));
        Assert.True(RiskDetector.NeedsValues(ResourceMode.Managed, action, "aws_ebs_volume", """{"encrypted":false}"""u8));
        Assert.True(RiskDetector.NeedsValues(ResourceMode.Managed, action, "aws_db_instance", """{"backup_retention_period":0}"""u8));
        Assert.True(RiskDetector.NeedsValues(ResourceMode.Managed, action, "aws_security_group", """{"ingress":[{"cidr_blocks":["0.0.0.0/0"]}]}"""u8));
    }

    [Theory]
    [InlineData("aws_ebs_volume", """{"size":8}""")]
    [InlineData("aws_ebs_volume", """{"encrypted":true}""")]
    [InlineData("aws_db_instance", """{"deletion_protection":false}""")]
    [InlineData("aws_security_group", """{"ingress":[{"cidr_blocks":["10.0.0.0/8"]}]}""")]
    public void A_create_no_rule_can_report_on_needs_no_values(string type, string after)
    {
        // A new resource has no before value: a flag can only be reported when it is false, and
        // deletion protection only when it was on before.
        Assert.False(RiskDetector.NeedsValues(ResourceMode.Managed, PlanAction.Create, type, System.Text.Encoding.UTF8.GetBytes(after)));
    }

    [Theory]
    [InlineData(PlanAction.Update)]
    [InlineData(PlanAction.Replace)]
    public void Updates_and_replacements_always_need_values(PlanAction action)
    {
        // The rules compare with the before value, which NeedsValues does not see.
        Assert.True(RiskDetector.NeedsValues(ResourceMode.Managed, action, "aws_ebs_volume", """{"size":8}"""u8));
    }

    private static JsonElement? Value(JsonElement change, string name) =>
        change.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
