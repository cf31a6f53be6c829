using System.Text;

using Airlock.Domain.Plans;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Plans;

public class PlanReaderErrorTests
{
    private static PlanParseException Fail(string text) => Assert.Throws<PlanParseException>(() => PlanTestInput.Text(text));

    [Fact]
    public void Malformed_json_reports_line_and_column()
    {
        var e = Fail("{\n  \"format_version\": \"1.0\",\n  \"planned_values\": {,}\n}\n");

        Assert.Equal(PlanErrorKind.Malformed, e.Kind);
        Assert.Equal(3, e.Line);
        Assert.Equal(22, e.Column); // the stray ',' after `  "planned_values": {`
        Assert.StartsWith("malformed JSON:", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_fixture_reports_truncation_at_the_end()
    {
        var bytes = File.ReadAllBytes(RepoPaths.Fixture("tofu-show-json", "tofu-basic-create.json"))[..3000];
        var lines = bytes.Count(b => b == (byte)'\n');

        var e = Assert.Throws<PlanParseException>(() => PlanReader.Read(new MemoryStream(bytes)));

        Assert.Equal(PlanErrorKind.Truncated, e.Kind);
        Assert.Equal(lines + 1, e.Line);
    }

    [Theory]
    [InlineData("address")]
    [InlineData("type")]
    [InlineData("policy")]
    public void Invalid_utf8_in_a_string_is_a_plan_error_not_a_crash(string where)
    {
        // Utf8JsonReader accepts any bytes inside a string; decoding them is where invalid UTF-8 shows.
        var text = PlanTestInput.Plan(PlanTestInput.Change(
            where == "address" ? "aws_iam_policy.BAD" : "aws_iam_policy.p",
            where == "type" ? "aws_iam_BAD" : "aws_iam_policy",
            """["create"]""",
            after: where == "policy" ? """{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"BAD\",\"Resource\":\"*\"}]}"}""" : """{"policy":null}"""));
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var at = bytes.AsSpan().IndexOf("BAD"u8);
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;

        var e = Assert.Throws<PlanParseException>(() => PlanReader.Read(new MemoryStream(bytes)));

        Assert.Equal(PlanErrorKind.Malformed, e.Kind);
        Assert.Contains("invalid UTF-8", e.Reason, StringComparison.Ordinal);
        Assert.Equal(PositionOf(bytes, at), (e.Line, e.Column));
    }

    [Fact]
    public void Invalid_utf8_in_a_section_the_summary_skips_is_still_an_error()
    {
        var bytes = "{\n \"format_version\": \"1.2\",\n \"planned_values\": {\"root_module\": {\"x\": \"a#b\"}},\n \"resource_changes\": []\n}\n"u8.ToArray();
        var at = bytes.AsSpan().IndexOf((byte)'#');
        bytes[at] = 0xFF;

        var e = Assert.Throws<PlanParseException>(() => PlanReader.Read(new MemoryStream(bytes)));

        Assert.Equal((PlanErrorKind.Malformed, 3L), (e.Kind, e.Line));
        Assert.Equal(PositionOf(bytes, at), (e.Line, e.Column));
        Assert.Contains("invalid UTF-8", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_first_problem_in_the_file_is_reported(bool utf8First)
    {
        // A stray ',' and an invalid byte, in either order: the earlier one is what the reader reports.
        var bytes = (utf8First
            ? "{\"format_version\":\"1.2\",\"planned_values\":{\"a\":\"#\"},\n\"resource_changes\":[,]}"u8
            : "{\"format_version\":\"1.2\",\"planned_values\":{,},\n\"resource_changes\":[{\"address\":\"#\"}]}"u8).ToArray();
        bytes[bytes.AsSpan().IndexOf((byte)'#')] = 0xFE;

        var e = Assert.Throws<PlanParseException>(() => PlanReader.Read(new MemoryStream(bytes)));

        Assert.Equal(1, e.Line);
        Assert.Equal(utf8First, e.Reason.Contains("invalid UTF-8", StringComparison.Ordinal));
    }

    private static (long Line, long Column) PositionOf(byte[] bytes, int at)
    {
        var before = bytes.AsSpan(0, at);
        return (before.Count((byte)'\n') + 1, at - before.LastIndexOf((byte)'\n'));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n\t\n")]
    public void Empty_input_is_truncated_and_says_it_is_empty(string text)
    {
        var e = Fail(text);

        Assert.Equal(PlanErrorKind.Truncated, e.Kind);
        Assert.Equal("empty input: no JSON at all", e.Reason);
    }

    [Theory]
    [InlineData("""{"hello":"world"}""")]
    [InlineData("[1,2,3]")]
    [InlineData("\"a string\"")]
    // `show -json` of a state: format_version but no plan sections.
    [InlineData("""{"format_version":"1.0","terraform_version":"1.5.0","values":{"root_module":{}}}""")]
    public void Valid_json_that_is_not_a_plan(string text)
    {
        var e = Fail(text);

        Assert.Equal(PlanErrorKind.NotAPlan, e.Kind);
        Assert.StartsWith("not a plan", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_file_is_not_a_plan()
    {
        var e = Assert.Throws<PlanParseException>(() => PlanTestInput.File(RepoPaths.Fixture("state", "driftctl-aws-kms-key.tfstate")));

        Assert.Equal(PlanErrorKind.NotAPlan, e.Kind);
    }

    [Fact]
    public void Unsupported_format_version_points_at_the_version()
    {
        var e = Fail("{\n  \"planned_values\": {},\n  \"format_version\": \"2.0\"\n}");

        Assert.Equal(PlanErrorKind.UnsupportedVersion, e.Kind);
        Assert.Equal(3, e.Line);
        Assert.Equal(21, e.Column);
        Assert.Contains("\"2.0\"", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_pulumi_line_reports_its_line()
    {
        var e = Fail("{\"sequence\":0,\"preludeEvent\":{}}\n{\"sequence\":1, oops}\n");

        Assert.Equal(PlanErrorKind.Malformed, e.Kind);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void Unknown_action_combination_is_rejected_not_guessed()
    {
        var e = Fail(PlanTestInput.Plan(PlanTestInput.Change("a.b", "a", """["update","delete"]""")));

        Assert.Contains("unknown change actions [update,delete]", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_past_several_buffer_refills_still_report_the_right_line()
    {
        // About 6 MB of valid resource changes, one per line, then a bad token: the reader refills its 1 MB buffer many times.
        var builder = new StringBuilder("{\"format_version\":\"1.2\",\"planned_values\":{},\"resource_changes\":[\n");
        const int Resources = 30_000;
        for (var i = 0; i < Resources; i++)
        {
            builder.Append(PlanTestInput.Change($"null_resource.r[{i}]", "null_resource", """["create"]""", after: """{"triggers":{"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}""")).Append(",\n");
        }

        var valid = builder.ToString().TrimEnd(',', '\n') + "\n]}";
        var summary = PlanTestInput.Text(valid);
        Assert.Equal(Resources, summary.Counts.Create);
        Assert.True(valid.Length > 6_000_000);

        var broken = builder.Append("  nope\n]}").ToString();
        var e = Fail(broken);
        Assert.Equal(PlanErrorKind.Malformed, e.Kind);
        Assert.Equal(Resources + 2, e.Line);
        Assert.Equal(4, e.Column); // "  nope": the reader stops at the 'o' that cannot continue `null`
    }
}
