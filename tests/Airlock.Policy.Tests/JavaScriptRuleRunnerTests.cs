using System.Text.Json.Nodes;
using Airlock.Domain.Policy;

namespace Airlock.Policy.Tests;

public class JavaScriptRuleRunnerTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly JsonNode ProdInput = JsonNode.Parse("""
        { "environment": { "name": "prod" }, "actor": "alice@example.com",
          "plan": { "counts": { "create": 1, "delete": 2 }, "risks": [ { "kind": "public_ingress_added", "address": "aws_security_group.web" } ] } }
        """)!;

    private static RuleResult Run(string source, SandboxLimits? limits = null, JsonNode? input = null) =>
        new JavaScriptRuleRunner(limits ?? SandboxLimits.Default).Evaluate(new CustomRule("rule-under-test", "policies/rule-under-test.js", source), input ?? ProdInput, Noon);

    [Fact]
    public void A_rule_sees_the_input_and_its_fail_message_is_kept()
    {
        var result = Run("""
            function evaluate(input) {
              var risky = input.plan.risks.filter(function (r) { return r.kind === 'public_ingress_added'; });
              if (input.environment.name === 'prod' && risky.length > 0) {
                return { result: 'fail', message: 'public ingress in prod: ' + risky[0].address };
              }
              return 'pass';
            }
            """);

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Equal("public ingress in prod: aws_security_group.web", result.Message);
        Assert.Equal("rule-under-test", result.Id);
    }

    [Theory]
    [InlineData("function evaluate(i) { return 'pass'; }", RuleOutcome.Pass)]
    [InlineData("function evaluate(i) { return { result: 'warn', messages: ['a', 'b'] }; }", RuleOutcome.Warn)]
    [InlineData("function evaluate(i) { return { result: i.plan.counts.delete > 1 ? 'fail' : 'pass' }; }", RuleOutcome.Fail)]
    public void Each_outcome_form_is_understood(string source, RuleOutcome expected)
    {
        Assert.Equal(expected, Run(source).Result);
    }

    [Fact]
    public void Warn_messages_are_joined()
    {
        Assert.Equal("a; b", Run("function evaluate(i) { return { result: 'warn', messages: ['a', 'b'] }; }").Message);
    }

    [Fact]
    public void A_rule_that_loops_forever_is_stopped_by_the_time_limit()
    {
        var result = Run("function evaluate(i) { while (true) { } }", new SandboxLimits { Timeout = TimeSpan.FromMilliseconds(300), MaxStatements = int.MaxValue });

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("time limit", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_that_loops_forever_is_stopped_by_the_statement_limit_when_that_comes_first()
    {
        var result = Run("function evaluate(i) { for (;;) { var x = 1; } }", new SandboxLimits { Timeout = TimeSpan.FromMinutes(1), MaxStatements = 10_000 });

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("statements", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unbounded_recursion_is_stopped()
    {
        var result = Run("function f(n) { return f(n + 1) + 1; } function evaluate(i) { return f(0); }");

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("call depth", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_memory_bomb_is_stopped()
    {
        var result = Run(
            "function evaluate(i) { var a = []; for (;;) { a.push('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + a.length); } }",
            new SandboxLimits { MemoryBytes = 8L * 1024 * 1024, Timeout = TimeSpan.FromSeconds(30), MaxStatements = int.MaxValue });

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("memory limit", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("typeof System === 'undefined' && typeof importNamespace === 'undefined'")]
    [InlineData("typeof require === 'undefined' && typeof fetch === 'undefined' && typeof XMLHttpRequest === 'undefined'")]
    public void The_sandbox_exposes_no_host_objects(string expression)
    {
        var result = Run($"function evaluate(i) {{ return ({expression}) ? 'pass' : 'fail'; }}");

        Assert.Equal(RuleOutcome.Pass, result.Result);
    }

    [Fact]
    public void Eval_is_disabled()
    {
        var result = Run("function evaluate(i) { return eval(\"'pass'\"); }");

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("threw", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_clock_reads_the_evaluation_time_not_the_host_clock()
    {
        var result = Run("function evaluate(i) { return { result: 'warn', message: new Date().toISOString() + ' ' + Date.now() }; }");

        Assert.Equal($"2026-11-25T12:00:00.000Z {Noon.ToUnixTimeMilliseconds()}", result.Message);
    }

    [Fact]
    public void A_syntax_error_names_the_file_and_position()
    {
        var result = Run("function evaluate(i) {\n  return 'pass'\n  }}");

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("syntax error at policies/rule-under-test.js:3:", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_evaluate_fails_with_the_reason()
    {
        var result = Run("var x = 1;");

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("does not define function evaluate(input)", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("function evaluate(i) { return 42; }", "expected a string or an object")]
    [InlineData("function evaluate(i) { return 'maybe'; }", "must be pass, fail or warn, not 'maybe'")]
    [InlineData("function evaluate(i) { return { message: 'x' }; }", "no string 'result'")]
    public void An_invalid_return_value_fails_the_rule(string source, string reason)
    {
        var result = Run(source);

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains(reason, result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_thrown_error_fails_the_rule_with_its_message()
    {
        var result = Run("function evaluate(i) {\n throw new Error('no owner'); }");

        Assert.Equal(RuleOutcome.Fail, result.Result);
        Assert.Contains("no owner", result.Message, StringComparison.Ordinal);
        Assert.Contains(":2", result.Message, StringComparison.Ordinal);
    }
}
