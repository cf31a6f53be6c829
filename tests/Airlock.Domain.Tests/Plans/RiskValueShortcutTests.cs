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
        Assert.False(RiskDetector.NeedsValues(ResourceMode.Managed, action, "aws_ebs_volume", """{"size":8}"""u8));
    }

    private static JsonElement? Value(JsonElement change, string name) =>
        change.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
