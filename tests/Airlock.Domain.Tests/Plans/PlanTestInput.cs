using System.Text;

using Airlock.Domain.Plans;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Plans;

/// <summary>Helpers to summarise fixtures and in-memory plans.</summary>
internal static class PlanTestInput
{
    public static string[] TerraformFolders { get; } = ["tofu-show-json", "realistic-plans"];

    public static IEnumerable<string> TerraformFixtures() =>
        TerraformFolders.SelectMany(folder => Directory.GetFiles(RepoPaths.Fixture(folder), "*.json")).Order(StringComparer.Ordinal);

    public static IEnumerable<string> PulumiFixtures() => Directory.GetFiles(RepoPaths.Fixture("pulumi"), "*.json").Order(StringComparer.Ordinal);

    public static PlanSummary Fixture(string folder, string name) => File(RepoPaths.Fixture(folder, name));

    public static PlanSummary File(string path)
    {
        using var stream = System.IO.File.OpenRead(path);
        return PlanReader.Read(stream);
    }

    public static PlanSummary Text(string json, ResourceClassMap? classes = null) => PlanReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), classes);

    /// <summary>A minimal plan in the documented `show -json` shape around the given resource_changes entries.</summary>
    public static string Plan(params string[] resourceChanges) =>
        $$"""{"format_version":"1.2","terraform_version":"1.9.0","planned_values":{},"resource_changes":[{{string.Join(",", resourceChanges)}}]}""";

    /// <summary>One resource_changes entry in the documented shape.</summary>
    public static string Change(string address, string type, string actions, string before = "null", string after = "null", string extra = "", string changeExtra = "") =>
        $$$"""{"address":"{{{address}}}","mode":"managed","type":"{{{type}}}","name":"x","provider_name":"registry.terraform.io/hashicorp/aws"{{{extra}}},"change":{"actions":{{{actions}}},"before":{{{before}}},"after":{{{after}}},"after_unknown":{},"before_sensitive":false,"after_sensitive":false{{{changeExtra}}}}}""";
}
