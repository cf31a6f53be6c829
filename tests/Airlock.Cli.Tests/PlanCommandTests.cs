using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Airlock.Testing;

namespace Airlock.Cli.Tests;

public partial class PlanCommandTests
{
    private static string Fixture(string folder, string name) => RepoPaths.Fixture(folder, name);

    [GeneratedRegex(@"^airlock: (?<file>[^:]+):(?<line>\d+):(?<col>\d+): (?<reason>.+)$")]
    private static partial Regex ErrorLine();

    [Fact]
    public async Task Summarize_json_has_the_stable_shape_and_counts()
    {
        var result = await CliRunner.RunAsync("summarize", Fixture("realistic-plans", "checkov-terragoat-aws-55-creates.json"), "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        var counts = root.GetProperty("counts");
        Assert.Equal(["create", "update", "replace", "delete", "read", "no_op", "forget"], counts.EnumerateObject().Select(p => p.Name));
        Assert.Equal(55, counts.GetProperty("create").GetInt32());
        Assert.Equal(55, root.GetProperty("resources").GetArrayLength());
        Assert.All(root.GetProperty("resources").EnumerateArray(), r =>
        {
            Assert.Equal(JsonValueKind.String, r.GetProperty("address").ValueKind);
            Assert.Equal(JsonValueKind.String, r.GetProperty("type").ValueKind);
            Assert.Equal("create", r.GetProperty("action").GetString());
        });
        Assert.Contains(root.GetProperty("risks").EnumerateArray(), r => r.GetProperty("kind").GetString() == "public_ingress_added" && r.GetProperty("address").GetString() == "aws_security_group.web-node");
        Assert.StartsWith("sha256:", root.GetProperty("digest").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Summarize_detects_a_pulumi_event_stream()
    {
        var result = await CliRunner.RunAsync("summarize", Fixture("pulumi", "display-up-replace-webserver.json"), "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("pulumi", json.RootElement.GetProperty("engine").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("counts").GetProperty("replace").GetInt32());
    }

    [Theory]
    [InlineData("tofu-basic-update-noop.json", 0)] // a no-op resource and a no-op output
    [InlineData("tofu-basic-create.json", 2)]
    [InlineData("tfjson-012-noop-output-create.json", 2)] // only outputs change: still changes, as `plan -detailed-exitcode` says
    public async Task Detailed_exitcode_says_whether_anything_changes(string file, int expected)
    {
        var result = await CliRunner.RunAsync("summarize", Fixture("tofu-show-json", file), "--detailed-exitcode");

        Assert.True(result.ExitCode == expected, result.ToString());
    }

    [Fact]
    public async Task Detailed_exitcode_is_1_on_error()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "bad.json");
        await File.WriteAllTextAsync(path, "{\"format_version\": ");

        var result = await CliRunner.RunAsync("summarize", path, "--detailed-exitcode");

        Assert.Equal(1, result.ExitCode);
    }

    public static TheoryData<string, string, int, int, string> BadInputs() => new()
    {
        { "malformed.json", "{\n  \"format_version\": \"1.0\",\n  \"planned_values\": {,}\n}\n", 3, 22, "malformed JSON:" },
        { "truncated.json", "{\n  \"format_version\": \"1.0\",\n  \"planned_values\": {\n", 4, 1, "truncated JSON:" },
        { "not-a-plan.json", "{\"hello\": \"world\"}", 1, 1, "not a plan" },
        { "future.json", "{\n\"format_version\": \"3.1\", \"planned_values\": {}}", 2, 19, "unsupported plan format_version \"3.1\"" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_one_line_naming_file_and_position_with_exit_1(string name, string content, int line, int column, string reason)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, name);
        await File.WriteAllTextAsync(path, content);

        var result = await CliRunner.RunAsync("summarize", path, "--format", "json");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        var stderr = result.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', stderr);
        var match = ErrorLine().Match(stderr);
        Assert.True(match.Success, stderr);
        Assert.Equal(path, match.Groups["file"].Value);
        Assert.Equal(line.ToString(System.Globalization.CultureInfo.InvariantCulture), match.Groups["line"].Value);
        Assert.Equal(column.ToString(System.Globalization.CultureInfo.InvariantCulture), match.Groups["col"].Value);
        Assert.StartsWith(reason, match.Groups["reason"].Value, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_given_as_the_plan_is_a_one_line_error()
    {
        using var dir = new TempDir();

        var result = await CliRunner.RunAsync("summarize", dir.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"airlock: {dir.Path}: is a directory; give the plan JSON file (`tofu show -json PLANFILE > plan.json`)", result.Stderr.Trim());
    }

    [Fact]
    public async Task Missing_file_is_a_one_line_error()
    {
        var result = await CliRunner.RunAsync("summarize", "/nonexistent/plan.json");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("airlock: /nonexistent/plan.json: cannot read", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    [InlineData("markdown")]
    public async Task Sensitive_and_secret_values_are_never_printed(string format)
    {
        // tofu-sensitive-values: attribute `ami` and output `test` are sensitive, value "boop".
        var sensitive = await CliRunner.RunAsync("summarize", Fixture("tofu-show-json", "tofu-sensitive-values.json"), "--format", format);
        // Example secrets that these real plans hold in clear in their attributes.
        var terragoat = await CliRunner.RunAsync("summarize", Fixture("realistic-plans", "checkov-terragoat-aws-55-creates.json"), "--format", format);
        var infracost = await CliRunner.RunAsync("summarize", Fixture("realistic-plans", "infracost-aws-v014-rds-iam-noop-update.json"), "--format", format);

        Assert.True(sensitive.ExitCode == 0, sensitive.ToString());
        Assert.DoesNotContain("boop", sensitive.Stdout, StringComparison.Ordinal);
        Assert.Contains("(sensitive)", sensitive.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIAIOSFODNN7EXAMPLE", terragoat.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("YourPwdShouldBeLongAndSecure!", infracost.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sensitive_output_is_masked_and_unknown_outputs_say_known_after_apply()
    {
        // tfjson-110-sensitive-values: output `foo` is sensitive (value "bar"); `interpolated` is unknown; `string` is "foo" in clear.
        var json = await CliRunner.RunAsync("summarize", Fixture("tofu-show-json", "tfjson-110-sensitive-values.json"), "--format", "json");
        var text = await CliRunner.RunAsync("summarize", Fixture("tofu-show-json", "tfjson-110-sensitive-values.json"));

        using var document = JsonDocument.Parse(json.Stdout);
        var outputs = document.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!, o => o.GetProperty("value").GetString());
        Assert.Equal("(sensitive)", outputs["foo"]);
        Assert.Equal("(known after apply)", outputs["interpolated"]);
        Assert.Equal("\"foo\"", outputs["string"]);
        var fooLine = Assert.Single(text.Stdout.Split('\n'), l => l.Contains("│ foo ", StringComparison.Ordinal));
        Assert.Contains("(sensitive)", fooLine, StringComparison.Ordinal);
        Assert.DoesNotContain("bar", fooLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_output_lists_risks_before_changes_without_colour_when_piped()
    {
        var result = await CliRunner.RunAsync("summarize", Fixture("realistic-plans", "tfcompliance-aws-lambda-sg-delete-update-drift-outputs.json"));

        Assert.True(result.ExitCode == 0, result.ToString());
        var risks = result.Stdout.IndexOf("Risks (2)", StringComparison.Ordinal);
        var changes = result.Stdout.IndexOf("Changes", StringComparison.Ordinal);
        Assert.InRange(risks, 0, changes);
        Assert.Contains("5 to create, 1 to update, 0 to replace, 2 to delete", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("aws_cloudwatch_event_rule.Metricos_custom_alert_schedule_frequent[0]", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", result.Stdout, StringComparison.Ordinal);
        // Deletes are listed before creates.
        Assert.True(result.Stdout.IndexOf("│ delete", StringComparison.Ordinal) < result.Stdout.IndexOf("│ create", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Markdown_output_is_a_pr_comment_with_collapsible_groups()
    {
        var result = await CliRunner.RunAsync("summarize", Fixture("tofu-show-json", "tofu-requires-replace.json"), "--format", "markdown");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("### Plan: 0 to create, 0 to update, 1 to replace", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("<details open><summary><b>replace</b> (1)</summary>", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("forced by ami", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_same_plan_exits_0()
    {
        var plan = Fixture("realistic-plans", "infracost-aws-v014-rds-iam-noop-update.json");

        var result = await CliRunner.RunAsync("compare", plan, plan, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.False(json.RootElement.GetProperty("material").GetBoolean());
    }

    [Fact]
    public async Task Compare_stored_summary_with_its_plan_exits_0()
    {
        using var dir = new TempDir();
        var plan = Fixture("tofu-show-json", "tofu-basic-delete.json");
        var summary = await CliRunner.RunAsync("summarize", plan, "--format", "json");
        var approved = Path.Combine(dir.Path, "approved-summary.json");
        await File.WriteAllTextAsync(approved, summary.Stdout);

        var result = await CliRunner.RunAsync("compare", approved, plan);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("equivalent", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_with_a_new_delete_exits_3_with_reasons()
    {
        // Approved: test_instance.test no-op; fresh (tofu-basic-delete.json): test_instance.test updated and test_instance.test-delete deleted.
        var result = await CliRunner.RunAsync("compare", Fixture("tofu-show-json", "tofu-basic-update-noop.json"), Fixture("tofu-show-json", "tofu-basic-delete.json"), "--json");

        Assert.True(result.ExitCode == 3, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.True(json.RootElement.GetProperty("material").GetBoolean());
        Assert.Contains(json.RootElement.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("kind").GetString() == "delete_added");
    }

    [Fact]
    public async Task Compare_with_a_bad_file_exits_1()
    {
        using var dir = new TempDir();
        var bad = Path.Combine(dir.Path, "fresh.json");
        await File.WriteAllTextAsync(bad, "[]");

        var result = await CliRunner.RunAsync("compare", Fixture("tofu-show-json", "tofu-basic-create.json"), bad);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"airlock: {bad}:1:1: not a plan", result.Stderr, StringComparison.Ordinal);
    }
}

public class PlanTextRenderingTests
{
    // Longer tables than Spectre lays out (500 rows) are written line by line: every change still
    // appears once, in one bordered table with one header, rows aligned; markdown streams in 64 KB
    // pieces and still lists every change once.
    [Fact]
    public async Task A_plan_longer_than_a_spectre_table_lists_every_change_once_in_one_aligned_table()
    {
        using var dir = new TempDir();
        static JsonObject Change(string address, string action) => new()
        {
            ["address"] = address,
            ["mode"] = "managed",
            ["type"] = "null_resource",
            ["name"] = "n",
            ["provider_name"] = "registry.terraform.io/hashicorp/null",
            ["change"] = new JsonObject
            {
                ["actions"] = new JsonArray(action),
                ["before"] = action == "delete" ? new JsonObject() : null,
                ["after"] = action == "delete" ? null : new JsonObject(),
                ["after_unknown"] = new JsonObject(),
            },
        };
        var creates = Enumerable.Range(0, 1500).Select(i => $"null_resource.n[{i}]").ToList();
        var deletes = Enumerable.Range(0, 3).Select(i => $"null_resource.gone[{i}]").ToList();
        var plan = dir.Write("plan.json", new JsonObject
        {
            ["format_version"] = "1.2",
            ["planned_values"] = new JsonObject(),
            ["resource_changes"] = new JsonArray([.. creates.Select(a => Change(a, "create")), .. deletes.Select(a => Change(a, "delete"))]),
        }.ToJsonString());

        var text = await CliRunner.RunAsync("summarize", plan);
        var markdown = await CliRunner.RunAsync("summarize", plan, "--format", "markdown");

        Assert.True(text.ExitCode == 0, text.ToString());
        var lines = text.Stdout.Split('\n');
        var top = Array.FindIndex(lines, l => l.Trim() == "Changes") + 1;
        var bottom = Array.FindIndex(lines, top, l => l.StartsWith('└'));
        Assert.StartsWith("┌", lines[top], StringComparison.Ordinal);
        Assert.Equal(["│ action │ address", "├"], [lines[top + 1][..18], lines[top + 2][..1]]);
        var rows = lines[(top + 3)..bottom];
        Assert.Equal(1503, rows.Length);
        Assert.All(rows, row => Assert.Equal(lines[top].Length, row.Length));
        Assert.Equal([.. deletes, .. creates], rows.Select(row => row.Split('│', StringSplitOptions.TrimEntries)[2]));
        Assert.StartsWith("digest sha256:", lines[^2], StringComparison.Ordinal);

        Assert.True(markdown.ExitCode == 0, markdown.ToString());
        Assert.All([.. creates, .. deletes], address => Assert.Single(Regex.Matches(markdown.Stdout, Regex.Escape($"| `{address}` | `null_resource` |"))));
        Assert.Contains("<sub>summary digest `sha256:", markdown.Stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string> AllFixtures() =>
        [.. new[] { "realistic-plans", "pulumi" }.SelectMany(folder => Directory.GetFiles(RepoPaths.Fixture(folder), "*.json")).Order(StringComparer.Ordinal)];

    // Regression: addresses and values hold '[' (count/for_each keys, JSON lists) and Spectre read them as markup.
    // The real-world plans and Pulumi streams carry every address shape; one process each keeps the suite quick.
    [Theory]
    [MemberData(nameof(AllFixtures))]
    public async Task Every_real_plan_renders_as_text(string path)
    {
        var text = await CliRunner.RunAsync("summarize", path);

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.StartsWith("Plan (", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("digest sha256:", text.Stdout, StringComparison.Ordinal);
    }
}

public class PlanCommandConfigTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public async Task Resource_classes_from_a_workspace_config_turn_a_replacement_into_a_stateful_risk()
    {
        using var dir = new Airlock.Testing.TempDir();
        var config = dir.Write("airlock.yaml", "version: 1\nproject: p\nenvironments: { dev: {} }\nresource_classes:\n  database: [null_resource]\n");
        var plan = Airlock.Testing.RepoPaths.Fixture("tofu-show-json", "tfjson-replace-because-tainted.json");

        var builtIn = await CliRunner.RunAsync(dir.Path, NoEnv, "summarize", "--format", "json", plan);
        var classified = await CliRunner.RunAsync(dir.Path, NoEnv, "summarize", "--format", "json", "--config", config, plan);
        var byDirectory = await CliRunner.RunAsync(dir.Path, NoEnv, "summarize", "--format", "json", "--config", dir.Path, plan);

        Assert.True(classified.ExitCode == 0, classified.ToString());
        // A workspace directory stands for its airlock.yaml, as with `airlock validate DIR`.
        Assert.Equal(classified.Stdout, byDirectory.Stdout);
        Assert.DoesNotContain("stateful_replacement", builtIn.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"stateful_replacement\"", classified.Stdout, StringComparison.Ordinal);
        Assert.Contains("null_resource (database) is replaced", classified.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_config_is_one_line_and_exit_one()
    {
        using var dir = new Airlock.Testing.TempDir();
        var config = dir.Write("airlock.yaml", "version: 1\nprojekt: p\n");
        var plan = Airlock.Testing.RepoPaths.Fixture("tofu-show-json", "tfjson-replace-because-tainted.json");

        var result = await CliRunner.RunAsync(dir.Path, NoEnv, "compare", "--config", config, plan, plan);

        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("run `airlock validate`", result.Stderr, StringComparison.Ordinal);
    }
}
