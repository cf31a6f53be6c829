using System.Text.Json.Nodes;

namespace Airlock.Cli.Tests.GovernedApply;

/// <summary>`airlock approve PLAN_ID --reject --reason …`: an eligible approver's "no" blocks the plan until a fresh plan.</summary>
public sealed class RejectTests
{
    [Theory]
    [MemberData(nameof(GovernedApplyTests.Backends), MemberType = typeof(GovernedApplyTests))]
    public async Task A_rejection_by_an_eligible_approver_blocks_the_plan_until_a_fresh_plan(string backend)
    {
        using var ws = await GovernedWorkspace.CreateAsync(backend);
        var planId = await ws.PlanAsync("prod");

        var noReason = await ws.RunAsync("approve", planId, "--reject", "--as", "bob@example.com");
        Assert.Equal(2, noReason.ExitCode);
        Assert.Contains("needs a reason", noReason.Stderr, StringComparison.Ordinal);

        var self = await ws.RunAsync("approve", planId, "--reject", "--reason", "mine", "--as", "alice@example.com");
        Assert.Equal(3, self.ExitCode);
        Assert.Contains("cannot reject it (separation of duties)", self.Stderr, StringComparison.Ordinal);

        var outsider = await ws.RunAsync("approve", planId, "--reject", "--reason", "nope", "--as", "dave@example.com");
        Assert.Equal(3, outsider.ExitCode);
        Assert.Contains("not in a team that may approve", outsider.Stderr, StringComparison.Ordinal);

        // Approvals first, then a rejection: the rejection outweighs them.
        Assert.Equal(0, (await ws.RunAsync("approve", planId, "--as", "bob@example.com")).ExitCode);
        var rejected = await ws.RunAsync("approve", planId, "--reject", "--reason", "drops the   wrong bucket", "--as", "carol@example.com");
        Assert.True(rejected.ExitCode == 0, rejected.ToString());
        Assert.Contains("Rejected plan", rejected.Stdout, StringComparison.Ordinal);

        var late = await ws.RunAsync("approve", planId, "--as", "carol@example.com");
        Assert.Equal(3, late.ExitCode);
        Assert.Contains("rejected by carol@example.com: drops the wrong bucket", late.Stderr, StringComparison.Ordinal);

        var approvals = await ws.RunAsync("approvals", planId, "--json");
        Assert.Equal(3, approvals.ExitCode);
        var standing = JsonNode.Parse(approvals.Stdout)!;
        Assert.False((bool)standing["satisfied"]!);
        Assert.Equal("carol@example.com", (string)standing["rejection"]!["rejecter"]!);
        Assert.Equal("drops the wrong bucket", (string)standing["rejection"]!["reason"]!);
        Assert.Equal("rejected by carol@example.com: drops the wrong bucket", (string)standing["problems"]![0]!);

        var human = await ws.RunAsync("approvals", planId);
        Assert.Contains("rejected    carol@example.com", human.Stdout, StringComparison.Ordinal);

        var apply = await ws.ApplyJsonAsync(planId, "alice@example.com", 3);
        Assert.Equal("rejected", (string)apply["state"]!);
        Assert.Contains("rejected by carol@example.com: drops the wrong bucket", (string)apply["statement"]!, StringComparison.Ordinal);
        Assert.Equal(0, ws.Serial("prod"));

        var evidence = await ws.RunAsync("evidence", "verify");
        Assert.True(evidence.ExitCode == 0, evidence.ToString());

        // A fresh plan starts over: the old rejection does not follow it.
        var fresh = await ws.PlanAsync("prod");
        Assert.Equal(0, (await ws.RunAsync("approve", fresh, "--as", "bob@example.com")).ExitCode);
        Assert.Equal(0, (await ws.RunAsync("approve", fresh, "--as", "carol@example.com")).ExitCode);
        await ws.ApplyJsonAsync(fresh, "alice@example.com", 0);
        Assert.Equal(1, ws.Serial("prod"));
    }
}
