using System.Text.Json;

using Airlock.Domain.Plans;

namespace Airlock.Domain.Tests.Plans;

public class FixtureSummaryTests
{
    public static TheoryData<string> TerraformFixtures() => [.. PlanTestInput.TerraformFixtures()];

    public static TheoryData<string> PulumiFixtures() => [.. PlanTestInput.PulumiFixtures()];

    // The oracle: a plain DOM read of each fixture's actions arrays, independent of the streaming reader.
    [Theory]
    [MemberData(nameof(TerraformFixtures))]
    public void Every_terraform_fixture_parses_with_the_counts_its_actions_arrays_give(string path)
    {
        var summary = PlanTestInput.File(path);

        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("resource_changes", out var changes))
        {
            foreach (var change in changes.EnumerateArray())
            {
                var actions = string.Join(",", change.GetProperty("change").GetProperty("actions").EnumerateArray().Select(a => a.GetString()));
                var key = actions switch
                {
                    "delete,create" or "create,delete" => "replace",
                    "no-op" => "no_op",
                    _ => actions,
                };
                expected[key] = expected.GetValueOrDefault(key) + 1;
            }
        }

        var counts = summary.Counts;
        Assert.Equal(expected.GetValueOrDefault("create"), counts.Create);
        Assert.Equal(expected.GetValueOrDefault("update"), counts.Update);
        Assert.Equal(expected.GetValueOrDefault("replace"), counts.Replace);
        Assert.Equal(expected.GetValueOrDefault("delete"), counts.Delete);
        Assert.Equal(expected.GetValueOrDefault("read"), counts.Read);
        Assert.Equal(expected.GetValueOrDefault("no_op"), counts.NoOp);
        Assert.Equal(root.GetProperty("format_version").GetString(), summary.FormatVersion);
        Assert.Equal(root.TryGetProperty("resource_drift", out var drift) ? drift.GetArrayLength() : 0, summary.Drift.Count);
        Assert.Equal(root.TryGetProperty("output_changes", out var outputs) ? outputs.EnumerateObject().Count() : 0, summary.Outputs.Count);
        Assert.Equal(root.TryGetProperty("errored", out var errored) && errored.GetBoolean(), summary.Errored);
        Assert.StartsWith("sha256:", summary.ArtifactDigest, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PulumiFixtures))]
    public void Every_pulumi_fixture_parses_and_lists_each_resource_once(string path)
    {
        var summary = PlanTestInput.File(path);

        // Oracle: distinct URNs of resourcePreEvents whose op is a change (refresh steps are drift, not changes).
        var urns = File.ReadAllLines(path)
            .Where(line => line.Length > 0)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("resourcePreEvent", out _))
            .Select(e => e.GetProperty("resourcePreEvent").GetProperty("metadata"))
            .Where(m => m.GetProperty("op").GetString() != "refresh")
            .Select(m => m.GetProperty("urn").GetString()!)
            .Distinct()
            .ToList();
        Assert.Equal("pulumi", summary.Engine);
        Assert.Equal(urns, summary.Resources.Select(r => r.Address).ToList());
    }

    // Expected counts read from each file with jq ('[.resource_changes[].change.actions|join(",")]|group_by(.)').
    [Theory]
    [InlineData("tofu-show-json", "tofu-basic-create.json", 3, 0, 0, 0, 0, 0)]
    [InlineData("tofu-show-json", "tofu-basic-delete.json", 0, 1, 0, 1, 0, 0)]
    [InlineData("tofu-show-json", "tofu-basic-update-noop.json", 0, 0, 0, 0, 0, 1)]
    [InlineData("tofu-show-json", "tofu-eq-data-read.json", 3, 0, 0, 0, 1, 0)]
    [InlineData("tofu-show-json", "tofu-requires-replace.json", 0, 0, 1, 0, 0, 0)]
    [InlineData("tofu-show-json", "tofu-provider-aliasing.json", 10, 0, 0, 0, 0, 0)]
    [InlineData("tofu-show-json", "tofu-multi-resource-update.json", 1, 0, 0, 0, 0, 1)]
    [InlineData("tofu-show-json", "tfjson-replace-and-noop-depends-on.json", 0, 0, 1, 0, 0, 1)]
    [InlineData("tofu-show-json", "tfjson-013-data-read-module-depends-on.json", 2, 0, 0, 0, 1, 0)]
    [InlineData("tofu-show-json", "checkov-create-before-destroy-edited.json", 0, 0, 1, 0, 0, 0)]
    [InlineData("tofu-show-json", "tofu-plan-errored.json", 0, 0, 0, 0, 0, 0)]
    [InlineData("realistic-plans", "checkov-terragoat-aws-55-creates.json", 55, 0, 0, 0, 0, 0)]
    [InlineData("realistic-plans", "infracost-aws-v014-rds-iam-noop-update.json", 12, 1, 0, 0, 0, 13)]
    [InlineData("realistic-plans", "tfcompliance-aws-alb-sg-iam-route53-update.json", 2, 4, 0, 0, 0, 18)]
    [InlineData("realistic-plans", "tfcompliance-aws-lambda-sg-delete-update-drift-outputs.json", 5, 1, 0, 2, 0, 7)]
    [InlineData("realistic-plans", "checkov-aws-github-oidc-iam-role.json", 5, 0, 0, 0, 4, 0)]
    [InlineData("realistic-plans", "tfsummarize-example-drift-modules.json", 7, 0, 0, 0, 0, 1)]
    [InlineData("pulumi", "display-up-create-one.json", 1, 0, 0, 0, 0, 5)]
    [InlineData("pulumi", "display-up-update.json", 0, 1, 0, 0, 0, 5)]
    [InlineData("pulumi", "display-up-create-eks-iam-sg.json", 6, 0, 0, 0, 0, 0)]
    [InlineData("pulumi", "display-up-replace-webserver.json", 0, 0, 1, 0, 0, 2)]
    [InlineData("pulumi", "display-destroy-with-components.json", 0, 0, 0, 2, 0, 1)]
    [InlineData("pulumi", "display-stack-output-diff.json", 0, 0, 0, 0, 0, 3)]
    [InlineData("pulumi", "engine-preview-replace.json", 0, 0, 1, 0, 0, 2)]
    [InlineData("pulumi", "engine-import-replacement.json", 0, 0, 1, 0, 0, 0)]
    [InlineData("pulumi", "engine-policy-remediation.json", 1, 0, 0, 0, 0, 0)]
    [InlineData("pulumi", "engine-protected-delete-fails.json", 0, 0, 0, 1, 0, 0)]
    // Interrupted run: the planned steps count even though their outputs never arrived.
    [InlineData("pulumi", "display-up-interrupted.json", 3, 1, 0, 0, 0, 1)]
    // Failed op: test-x update (failed), test-r delete-replaced, stack same.
    [InlineData("pulumi", "display-up-failed-op.json", 0, 1, 1, 0, 0, 1)]
    // Import: the stack is created, the two imported resources are no-ops with `importing` set (as Terraform shows imports).
    [InlineData("pulumi", "engine-import-component.json", 1, 0, 0, 0, 0, 2)]
    public void Counts_match_the_file(string folder, string file, int create, int update, int replace, int delete, int read, int noOp)
    {
        var counts = PlanTestInput.Fixture(folder, file).Counts;

        Assert.Equal(new PlanCounts(create, update, replace, delete, read, noOp, 0), counts);
    }

    [Fact]
    public void Replace_keeps_delete_before_create_order_and_the_reasons()
    {
        var resource = Assert.Single(PlanTestInput.Fixture("tofu-show-json", "tofu-requires-replace.json").Resources);

        Assert.Equal(PlanAction.Replace, resource.Action);
        Assert.Equal(ReplaceOrder.DeleteBeforeCreate, resource.ReplaceOrder);
        Assert.Equal("replace_because_cannot_update", resource.ActionReason);
        Assert.Equal(["ami"], resource.ReplacePaths);
    }

    [Fact]
    public void Create_before_destroy_order_is_kept_from_the_checkov_fixture()
    {
        var resource = Assert.Single(PlanTestInput.Fixture("tofu-show-json", "checkov-create-before-destroy-edited.json").Resources);

        Assert.Equal(PlanAction.Replace, resource.Action);
        Assert.Equal(ReplaceOrder.CreateBeforeDestroy, resource.ReplaceOrder);
        Assert.Equal("aws_secretsmanager_secret", resource.Type);
    }

    [Fact]
    public void Tainted_replacement_carries_its_reason()
    {
        var resource = Assert.Single(PlanTestInput.Fixture("tofu-show-json", "tfjson-replace-because-tainted.json").Resources);

        Assert.Equal("replace_because_tainted", resource.ActionReason);
    }

    [Fact]
    public void Moved_resources_keep_their_previous_address()
    {
        var resource = Assert.Single(PlanTestInput.Fixture("tofu-show-json", "tfjson-moved-noop.json").Resources);

        Assert.Equal(PlanAction.NoOp, resource.Action);
        Assert.NotNull(resource.PreviousAddress);
        Assert.NotEqual(resource.Address, resource.PreviousAddress);
    }

    [Fact]
    public void Importing_identity_is_kept_with_the_update()
    {
        var resource = Assert.Single(PlanTestInput.Fixture("tofu-show-json", "tfjson-importing-identity-update.json").Resources);

        Assert.Equal(PlanAction.Update, resource.Action);
        Assert.NotNull(resource.Importing);
        Assert.NotNull(resource.Importing!.IdentityJson);
    }

    [Fact]
    public void Data_source_reads_are_data_mode()
    {
        var summary = PlanTestInput.Fixture("tofu-show-json", "tofu-eq-data-read.json");

        var read = Assert.Single(summary.Resources, r => r.Action == PlanAction.Read);
        Assert.Equal(ResourceMode.Data, read.Mode);
        Assert.Equal("data.tfcoremock_simple_resource.read", read.Address);
        Assert.Equal("read_because_config_unknown", read.ActionReason);
    }

    [Fact]
    public void Drift_and_output_changes_are_summarised()
    {
        var summary = PlanTestInput.Fixture("realistic-plans", "tfcompliance-aws-lambda-sg-delete-update-drift-outputs.json");

        Assert.Equal(15, summary.Drift.Count);
        Assert.Equal(6, summary.Drift.Count(d => d.Action == PlanAction.Delete));
        Assert.Equal(9, summary.Drift.Count(d => d.Action == PlanAction.Update));
        // The stored drift entries lack `address`; it is rebuilt from type and name.
        Assert.Contains(summary.Drift, d => d.Address == "aws_cloudwatch_event_rule.metrics_schedule");
        var output = Assert.Single(summary.Outputs, o => o.Action == PlanAction.Update);
        Assert.Equal("lambda_function_arn", output.Name);
        Assert.Equal(OutputMasks.KnownAfterApply, output.DisplayValue);
    }

    [Fact]
    public void Errored_plan_is_flagged()
    {
        Assert.True(PlanTestInput.Fixture("tofu-show-json", "tofu-plan-errored.json").Errored);
    }

    [Fact]
    public void Pulumi_replacement_order_follows_the_event_order_and_keeps_replace_keys()
    {
        // engine-preview-replace: create-replacement comes before delete-replaced, so the new object exists first.
        var resource = Assert.Single(PlanTestInput.Fixture("pulumi", "engine-preview-replace.json").Resources, r => r.Action == PlanAction.Replace);

        Assert.Equal("urn:pulumi:test::test::pkgA:index:typ::resA", resource.Address);
        Assert.Equal(ReplaceOrder.CreateBeforeDestroy, resource.ReplaceOrder);
        Assert.Equal(["A"], resource.ReplacePaths);
        Assert.Equal(["A"], resource.ChangedPaths);
    }

    [Fact]
    public void Pulumi_refresh_becomes_drift_not_changes()
    {
        var summary = PlanTestInput.Fixture("pulumi", "engine-refresh-drift-delete-update.json");

        Assert.Empty(summary.Resources);
        Assert.Equal(2, summary.Drift.Count);
        Assert.Contains(summary.Drift, d => d.Address.EndsWith("::resC", StringComparison.Ordinal) && d.Action == PlanAction.Delete);
        Assert.Contains(summary.Drift, d => d.Address.EndsWith("::resA", StringComparison.Ordinal) && d.Action == PlanAction.Update && d.ChangedPaths.SequenceEqual(["oof"]));
    }

    [Fact]
    public void Pulumi_failures_mark_the_summary_errored()
    {
        Assert.True(PlanTestInput.Fixture("pulumi", "display-up-failed-op.json").Errored);
        Assert.True(PlanTestInput.Fixture("pulumi", "engine-protected-delete-fails.json").Errored);
        Assert.False(PlanTestInput.Fixture("pulumi", "display-up-update.json").Errored);
    }

    [Fact]
    public void Pulumi_import_is_kept()
    {
        var summary = PlanTestInput.Fixture("pulumi", "engine-import-component.json");

        Assert.Equal(2, summary.Resources.Count(r => r.Importing is not null));
        Assert.True(summary.HasChanges);
    }
}
