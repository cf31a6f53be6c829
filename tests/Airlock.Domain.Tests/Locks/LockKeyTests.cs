using Airlock.Domain.Locks;

namespace Airlock.Domain.Tests.Locks;

public sealed class LockKeyTests
{
    [Fact]
    public void Stack_keys_use_the_five_segment_form_and_round_trip()
    {
        var key = LockKey.Stack("acme", "prod", "123456789012", "eu-west-1", "network");
        Assert.Equal("stack:acme/prod/123456789012/eu-west-1/network", key.Value);
        Assert.Equal(key, LockKey.Parse(key.Value));
        Assert.Equal(key, LockKey.Parse("acme/prod/123456789012/eu-west-1/network"));
    }

    [Theory]
    [InlineData("semantic:shared-network/prod", LockKind.Semantic)]
    [InlineData("freeze:prod", LockKind.Freeze)]
    [InlineData("freeze:acme/prod", LockKind.Freeze)]
    [InlineData("state:s3://tfstate/prod/network.tfstate", LockKind.State)]
    public void Other_kinds_round_trip(string text, LockKind kind)
    {
        var key = LockKey.Parse(text);
        Assert.Equal(kind, key.Kind);
        Assert.Equal(text, key.Value);
    }

    [Theory]
    [InlineData("stack:a/b/c", "stack:<project>/<env>/<account>/<region>/<stack>")]
    [InlineData("bogus:x", "unknown kind 'bogus'")]
    [InlineData("just-a-name", "needs a kind prefix")]
    [InlineData("semantic:noenv", "semantic:<name>/<environment>")]
    [InlineData("stack:a/b/c d/e/f", "must not contain")]
    [InlineData("freeze:", "empty")]
    public void Malformed_keys_are_rejected_with_the_reason(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => LockKey.Parse(text));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_global_order_is_freeze_semantic_stack_state_then_name_and_release_is_its_reverse()
    {
        var state = LockKey.State("s3://b/k");
        var stackB = LockKey.Stack("p", "prod", "1", "eu", "b");
        var stackA = LockKey.Stack("p", "prod", "1", "eu", "a");
        var semantic = LockKey.Semantic("shared-network", "prod");
        var freeze = LockKey.Freeze("prod");
        Assert.Equal([freeze, semantic, stackA, stackB, state], LockOrder.AcquisitionOrder([state, stackB, semantic, stackA, freeze, stackB]));
        Assert.Equal([state, stackB, stackA, semantic, freeze], LockOrder.ReleaseOrder([stackA, freeze, state, semantic, stackB]));
    }

    [Fact]
    public void Only_named_administrators_with_a_reason_may_force_unlock()
    {
        var admins = new LockAdministrators(["ops", " bob ", ""]);
        admins.Authorize("bob", "host died");
        Assert.Contains("not one of the lock administrators (bob, ops)", Assert.Throws<UnauthorizedAccessException>(() => admins.Authorize("eve", "x")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => admins.Authorize("bob", "  "));
        Assert.Contains("no lock administrators are configured", Assert.Throws<UnauthorizedAccessException>(() => new LockAdministrators([]).Authorize("bob", "x")).Message, StringComparison.Ordinal);
    }
}
