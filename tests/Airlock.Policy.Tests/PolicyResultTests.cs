using Airlock.Domain.Policy;

namespace Airlock.Policy.Tests;

public class PolicyResultTests
{
    private static PolicyResult With(params RuleResult[] rules) => new("apply", "workspace", "sha256:bundle", "sha256:input", rules);

    [Fact]
    public void Any_failed_rule_denies_and_warnings_do_not()
    {
        Assert.Equal(PolicyDecision.Allow, With(new RuleResult("a", RuleOutcome.Pass, ""), new RuleResult("b", RuleOutcome.Warn, "w")).Decision);
        Assert.Equal(PolicyDecision.Deny, With(new RuleResult("a", RuleOutcome.Pass, ""), new RuleResult("b", RuleOutcome.Fail, "no")).Decision);
    }

    [Fact]
    public void The_digest_is_stable_and_changes_with_any_rule_result()
    {
        var one = With(new RuleResult("a", RuleOutcome.Pass, "ok"));
        var same = With(new RuleResult("a", RuleOutcome.Pass, "ok"));
        var other = With(new RuleResult("a", RuleOutcome.Warn, "ok"));

        Assert.Equal(one.Digest, same.Digest);
        Assert.NotEqual(one.Digest, other.Digest);
        Assert.StartsWith("sha256:", one.Digest, StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_form_has_the_documented_fields()
    {
        var json = With(new RuleResult("destroy-guard", RuleOutcome.Fail, "deletes a database")).ToJson();

        Assert.Equal("deny", (string?)json["decision"]);
        Assert.Equal("destroy-guard", (string?)json["rules"]![0]!["id"]);
        Assert.Equal("fail", (string?)json["rules"]![0]!["result"]);
        Assert.Equal("deletes a database", (string?)json["rules"]![0]!["message"]);
    }
}
