using System.Text.Json;

using Airlock.Application.Plans;
using Airlock.Application.Workspace;
using Airlock.Domain.Config;
using Airlock.Engines;

namespace Airlock.Application.Tests.Plans;

/// <summary>Output normalisation per engine, the changed-input names an apply reports, and a stack's target regions.</summary>
public sealed class InputsAndRegionsTests
{
    private const string Config = """
        version: 1
        project: p
        defaults: { engine: command }
        environments:
          dev: { region: eu-central-1 }
          solo: {}
          prod:
            waves:
              - { name: canary, regions: [us-west-2], bake: 1h }
              - { name: wave-2, regions: [us-east-1, eu-west-1], max_parallel: 2 }
        stacks:
          network:
            path: network
            command: { plan: ./plan.sh, apply: ./apply.sh }
          pinned:
            path: pinned
            region: ap-south-1
            command: { plan: ./plan.sh, apply: ./apply.sh }
        """;

    private static readonly WorkspaceConfig Workspace = Load();

    private static WorkspaceConfig Load()
    {
        var result = WorkspaceConfigLoader.Load(Config, "airlock.yaml");
        Assert.True(result.IsValid, string.Join("; ", result.Diagnostics.Select(d => d.Message)));
        return result.Config!;
    }

    private static StackConfig Stack(string name) => Workspace.FindStack(name)!;

    private static EnvironmentConfig Env(string name) => Workspace.FindEnvironment(name)!;

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void Tofu_output_json_normalises_to_values_and_remembers_which_are_sensitive()
    {
        var outputs = OutputNormaliser.Normalise("opentofu", Json("""
            {"vpc_id":{"sensitive":false,"type":"string","value":"vpc-0a1b"},
             "subnets":{"sensitive":false,"type":["list","string"],"value":["s-1","s-2"]},
             "db_password":{"sensitive":true,"type":"string","value":"hunter2"}}
            """));

        Assert.Equal("""{"vpc_id":"vpc-0a1b","subnets":["s-1","s-2"],"db_password":"hunter2"}""", outputs.Values.GetRawText());
        Assert.Equal(["db_password"], outputs.Sensitive);
    }

    [Fact]
    public void Command_engine_outputs_are_already_flat_and_an_object_value_is_kept_whole()
    {
        var outputs = OutputNormaliser.Normalise("command", Json("""{"vpc_id":"vpc-1","endpoint":{"value":"not a wrapper"}}"""));

        Assert.Equal("vpc-1", outputs.Values.GetProperty("vpc_id").GetString());
        Assert.Equal("not a wrapper", outputs.Values.GetProperty("endpoint").GetProperty("value").GetString());
        Assert.Empty(outputs.Sensitive);
    }

    [Fact]
    public void A_structured_output_without_a_value_is_a_broken_contract_not_a_silent_null()
    {
        var error = Assert.Throws<EngineConfigurationException>(() => OutputNormaliser.Normalise("pulumi", Json("""{"vpc_id":"vpc-1"}""")));

        Assert.Contains("'vpc_id' has no \"value\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Changed_names_inputs_whose_value_differs_appears_or_vanishes()
    {
        var current = ResolvedInputs.None with { IsEmpty = false };
        current = current with { Digests = new Dictionary<string, string> { ["vpc_id"] = "sha256:new", ["zone"] = "sha256:z", ["extra"] = "sha256:e" } };
        var planned = new Dictionary<string, string> { ["vpc_id"] = "sha256:old", ["zone"] = "sha256:z", ["gone"] = "sha256:g" };

        Assert.Equal(["extra", "gone", "vpc_id"], StackInputs.Changed(planned, current));
        Assert.Empty(StackInputs.Changed(current.Digests, current));
    }

    [Fact]
    public void A_waved_environment_targets_every_wave_region_in_wave_order()
    {
        Assert.Equal(["us-west-2", "us-east-1", "eu-west-1"], AirlockWorkspace.Regions(Stack("network"), Env("prod")));
        Assert.Equal(["eu-central-1"], AirlockWorkspace.Regions(Stack("network"), Env("dev")));
        Assert.Equal(["ap-south-1"], AirlockWorkspace.Regions(Stack("pinned"), Env("dev")));
        Assert.Equal([null], AirlockWorkspace.Regions(Stack("network"), Env("solo")));
    }

    [Fact]
    public void The_target_region_must_be_one_of_the_stacks_regions_and_is_required_with_waves()
    {
        Assert.Equal("us-east-1", AirlockWorkspace.TargetRegion(Stack("network"), Env("prod"), "us-east-1"));
        Assert.Equal("eu-central-1", AirlockWorkspace.TargetRegion(Stack("network"), Env("dev"), null));
        Assert.Equal("eu-central-1", AirlockWorkspace.TargetRegion(Stack("network"), Env("dev"), "eu-central-1"));
        Assert.Null(AirlockWorkspace.TargetRegion(Stack("network"), Env("solo"), null));

        var missing = Assert.Throws<UserInputException>(() => AirlockWorkspace.TargetRegion(Stack("network"), Env("prod"), null));
        Assert.Equal("prod rolls out in waves, so a plan targets one region: plan --region R (one of us-west-2, us-east-1, eu-west-1)", missing.Message);
        var wrong = Assert.Throws<UserInputException>(() => AirlockWorkspace.TargetRegion(Stack("network"), Env("prod"), "ap-northeast-1"));
        Assert.Equal("region 'ap-northeast-1' is not a target of network in prod (its regions: us-west-2, us-east-1, eu-west-1)", wrong.Message);
        var none = Assert.Throws<UserInputException>(() => AirlockWorkspace.TargetRegion(Stack("network"), Env("solo"), "us-east-1"));
        Assert.Contains("(it has no region)", none.Message, StringComparison.Ordinal);
    }
}
