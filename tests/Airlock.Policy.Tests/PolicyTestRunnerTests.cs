using Airlock.Testing;

namespace Airlock.Policy.Tests;

public class PolicyTestRunnerTests
{
    private const string NoPublicIngress = """
        function evaluate(input) {
          var open = input.plan.risks.filter(function (r) { return r.kind === 'public_ingress_added'; });
          if (open.length === 0) { return 'pass'; }
          return { result: input.environment === 'prod' ? 'fail' : 'warn', message: 'public ingress: ' + open[0].address };
        }
        """;

    private static string Case(string name, string environment, bool risky, string expect, string? contains = null) =>
        $$"""
          { "name": "{{name}}", "expect": "{{expect}}"{{(contains is null ? "" : $", \"message_contains\": \"{contains}\"")}},
            "input": { "environment": "{{environment}}", "plan": { "risks": [{{(risky ? "{ \"kind\": \"public_ingress_added\", \"address\": \"aws_security_group.web\" }" : "")}}] } } }
          """;

    [Fact]
    public void Cases_whose_expectations_hold_pass_and_others_fail_with_the_difference()
    {
        using var dir = new TempDir();
        dir.Write("no-public-ingress.js", NoPublicIngress);
        dir.Write("no-public-ingress.test.json", $$"""
            { "rule": "no-public-ingress", "cases": [
              {{Case("prod with ingress fails", "prod", true, "fail", "aws_security_group.web")}},
              {{Case("dev with ingress warns", "dev", true, "warn")}},
              {{Case("prod without ingress passes", "prod", false, "pass")}},
              {{Case("wrong expectation", "prod", true, "pass")}}
            ] }
            """);

        var results = new PolicyTestRunner(new JavaScriptRuleRunner()).RunDirectory(dir.Path);

        Assert.Equal([true, true, true, false], results.Select(r => r.Passed));
        Assert.Equal("expected pass, got fail: public ingress: aws_security_group.web", results[3].Detail);
    }

    [Fact]
    public void A_message_expectation_that_does_not_hold_fails_the_case()
    {
        using var dir = new TempDir();
        dir.Write("no-public-ingress.js", NoPublicIngress);
        dir.Write("t.test.json", $$"""{ "rule": "no-public-ingress", "cases": [ {{Case("msg", "prod", true, "fail", "something else")}} ] }""");

        var result = Assert.Single(new PolicyTestRunner(new JavaScriptRuleRunner()).RunDirectory(dir.Path));

        Assert.False(result.Passed);
        Assert.Contains("does not contain \"something else\"", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"rule\": ", "not valid JSON")]
    [InlineData("{ \"rule\": \"missing\", \"cases\": [] }", "no rule 'missing'")]
    [InlineData("{ \"rule\": \"r\", \"cases\": [] }", "\"cases\" must be a non-empty array")]
    [InlineData("{ \"rule\": \"r\", \"cases\": [ { \"input\": {}, \"expect\": \"maybe\" } ] }", "\"expect\" must be pass, fail or warn")]
    [InlineData("{ \"rule\": \"r\", \"cases\": [ { \"input\": {}, \"expect\": 1 } ] }", "t.test.json")]
    public void Malformed_test_files_are_reported_with_the_file(string content, string reason)
    {
        using var dir = new TempDir();
        dir.Write("r.js", "function evaluate(i) { return 'pass'; }");
        dir.Write("t.test.json", content);

        var error = Assert.Throws<PolicyException>(() => new PolicyTestRunner(new JavaScriptRuleRunner()).RunDirectory(dir.Path));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("t.test.json", error.Message, StringComparison.Ordinal);
    }
}
