using System.Globalization;

using Airlock.Application.Deployments;
using Airlock.Domain.Config;

namespace Airlock.Application.Tests.Deployments;

/// <summary>Blue-green on two loopback ports with a file as the router: deploy idle, check, switch, keep the old colour.</summary>
public sealed class BlueGreenDeploymentTests
{
    private sealed record Ports(int Blue, int Green)
    {
        public Dictionary<string, string> Placeholders => new()
        {
            ["blue_port"] = Blue.ToString(CultureInfo.InvariantCulture),
            ["green_port"] = Green.ToString(CultureInfo.InvariantCulture),
        };
    }

    private static ApplicationConfig App(string switchCommand = "sh ./switch.sh {color} {blue_port} {green_port}") =>
        DeploymentWorkspace.App(
            "sh ./bg-deploy.sh {blue_port} {green_port}",
            new DeploymentStrategy(DeploymentStrategyKind.BlueGreen, [], TimeSpan.Zero) { Switch = switchCommand },
            health: DeploymentWorkspace.HealthChecks);

    private static async Task<(DeploymentWorkspace Ws, Ports Ports)> WithV1OnBlueAsync(ApplicationConfig app)
    {
        var ws = await DeploymentWorkspace.CreateAsync();
        var ports = new Ports(DeploymentWorkspace.FreePort(), DeploymentWorkspace.FreePort());
        await ws.BuildAsync(app);
        var first = await ws.Deployer.DeployAsync(ws.Request(app, "v1", previous: null, liveColor: null, ports.Placeholders), ws.Observer, CancellationToken.None);
        // The statement (and blue's own log) say why when v1 did not come up.
        Assert.True(
            (first.Outcome, first.Color) == (DeploymentResult.Live, "blue"),
            $"{first.Outcome} on {first.Color}: {first.Statement}\nblue's {ws.AppLog(ports.Blue)}");
        Assert.Equal("web v1 is live on blue in dev", first.Statement);
        return (ws, ports);
    }

    [Fact]
    public async Task The_new_version_goes_to_the_idle_colour_and_the_old_colour_keeps_running()
    {
        var app = App();
        var (ws, ports) = await WithV1OnBlueAsync(app);
        await using var _ = ws;

        var result = await ws.Deployer.DeployAsync(ws.Request(app, "v2", "v1", "blue", ports.Placeholders), ws.Observer, CancellationToken.None);

        // The statement (and the new colour's own log) say why when green did not come up.
        Assert.True(
            (result.Outcome, result.Color) == (DeploymentResult.Live, "green"),
            $"{result.Outcome} on {result.Color}: {result.Statement}\ngreen's {ws.AppLog(ports.Green)}");
        Assert.Equal("web v2 is live on green in dev; blue keeps running for a fast rollback", result.Statement);
        Assert.Equal(["deploy", "health", "switch", "health"], result.Steps.Select(s => s.Step));
        Assert.Equal("green", ws.Read("router").Trim());
        Assert.Equal($"http://127.0.0.1:{ports.Green}", result.Outputs["url"]);
        Assert.Equal((200, "v2 green"), await DeploymentWorkspace.GetAsync(ports.Green, "/"));
        Assert.Equal((200, "v1 blue"), await DeploymentWorkspace.GetAsync(ports.Blue, "/"));
    }

    [Fact]
    public async Task A_broken_version_fails_before_the_switch_and_the_live_colour_keeps_serving()
    {
        var app = App();
        var (ws, ports) = await WithV1OnBlueAsync(app);
        await using var _ = ws;

        var result = await ws.Deployer.DeployAsync(ws.Request(app with { Health = DeploymentWorkspace.HealthChecksForAFailingVersion }, "v2-broken", "v1", "blue", ports.Placeholders), ws.Observer, CancellationToken.None);

        Assert.Equal((DeploymentResult.Failed, "blue"), (result.Outcome, result.Color));
        Assert.StartsWith("web v2-broken on green in dev: failed health checks (http http://127.0.0.1:", result.Statement, StringComparison.Ordinal);
        Assert.EndsWith("; traffic never moved (blue still serves v1)", result.Statement, StringComparison.Ordinal);
        Assert.Equal(["deploy", "health"], result.Steps.Select(s => s.Step));
        Assert.Equal(["blue"], ws.Lines("switches.log"));
        Assert.Equal("blue", ws.Read("router").Trim());
        Assert.Equal((200, "v1"), await DeploymentWorkspace.GetAsync(ports.Blue, "/version"));
        // The broken version is left running for inspection; its log says why when it is not (it once died of a client's reset).
        var green = await DeploymentWorkspace.GetAsync(ports.Green, "/health");
        Assert.True(green.Status == 503, $"green's /health: {green}\ngreen's {ws.AppLog(ports.Green)}");
    }

    [Fact]
    public async Task A_failure_after_the_switch_switches_back_to_the_old_colour()
    {
        // The router misroutes green to a dead port, so the new colour fails once traffic moves.
        var deadPort = DeploymentWorkspace.FreePort();
        var app = App($"sh ./switch.sh {{color}} {{blue_port}} {{green_port}} green {deadPort}");
        var (ws, ports) = await WithV1OnBlueAsync(app);
        await using var _ = ws;

        var result = await ws.Deployer.DeployAsync(ws.Request(app with { Health = DeploymentWorkspace.HealthChecksForADeadPort }, "v2", "v1", "blue", ports.Placeholders), ws.Observer, CancellationToken.None);

        Assert.True((DeploymentResult.RolledBack, "blue") == (result.Outcome, result.Color), $"{result.Outcome} on {result.Color}: {result.Statement}");
        Assert.StartsWith("web v2 after the switch to green in dev: failed health checks (http http://127.0.0.1:" + deadPort, result.Statement, StringComparison.Ordinal);
        Assert.EndsWith("; switched back to blue, where v1 passes its health checks", result.Statement, StringComparison.Ordinal);
        Assert.Equal(["deploy", "health", "switch", "health", "switch-back", "rollback-health"], result.Steps.Select(s => s.Step));
        Assert.Equal(["blue", "green", "blue"], ws.Lines("switches.log"));
        Assert.Equal("blue", ws.Read("router").Trim());
        Assert.Equal((200, "v1"), await DeploymentWorkspace.GetAsync(ports.Blue, "/version"));
    }
}
