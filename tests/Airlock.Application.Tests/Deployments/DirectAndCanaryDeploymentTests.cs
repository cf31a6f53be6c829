using System.Globalization;

using Airlock.Application.Deployments;
using Airlock.Domain.Config;

using Microsoft.Extensions.Time.Testing;

namespace Airlock.Application.Tests.Deployments;

/// <summary>Direct and canary deployments of the real sample service on loopback, with automatic rollback.</summary>
public sealed class DirectAndCanaryDeploymentTests
{
    private static string Deploy(int port) => $"sh ./deploy.sh {port.ToString(CultureInfo.InvariantCulture)}";

    [Fact]
    public async Task A_direct_deploy_goes_live_and_answers_its_version()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var app = DeploymentWorkspace.App(Deploy(port));
        await ws.BuildAsync(app);

        var result = await ws.Deployer.DeployAsync(ws.Request(app, "v1", previous: null), ws.Observer, CancellationToken.None);

        // The statement and the app's log say why when it did not go live (a loaded machine, a port still held, a crash).
        Assert.True(result.Outcome == DeploymentResult.Live, ws.Why(port, result));
        Assert.Equal("web v1 is live in dev", result.Statement);
        Assert.Equal(["deploy", "health"], result.Steps.Select(s => s.Step));
        Assert.All(result.Health, h => Assert.True(h.Passed, h.Detail));
        Assert.Equal($"http://127.0.0.1:{port}", result.Outputs["url"]);
        Assert.Equal((200, "v1"), await DeploymentWorkspace.GetAsync(port, "/version"));
        Assert.Equal(["dev v1 100"], ws.Lines("deploys.log"));
    }

    [Fact]
    public async Task A_direct_deploy_failing_health_rolls_back_to_the_previous_version()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var app = DeploymentWorkspace.App(Deploy(port));
        await ws.BuildAsync(app);
        var first = await ws.Deployer.DeployAsync(ws.Request(app, "v1", previous: null), ws.Observer, CancellationToken.None);
        Assert.True(first.Outcome == DeploymentResult.Live, ws.Why(port, first));

        var result = await ws.Deployer.DeployAsync(ws.Request(app with { Health = DeploymentWorkspace.HealthChecksForAFailingVersion }, "v2-broken", previous: "v1"), ws.Observer, CancellationToken.None);

        // The statement and the restored instance's log say why when the rollback itself did not come back healthy.
        Assert.True(result.Outcome == DeploymentResult.RolledBack, ws.Why(port, result));
        Assert.StartsWith("web v2-broken in dev failed health checks (http http://127.0.0.1:", result.Statement, StringComparison.Ordinal);
        // 151 counted attempts, and any the start period forgave while v2-broken was not listening yet.
        Assert.Matches(@"/health: expected 200, got 503 \((15[1-9]|1[6-9][0-9]|[2-9][0-9]{2}) attempts over ", result.Statement);
        Assert.EndsWith("; rolled back to v1, which passes its health checks", result.Statement, StringComparison.Ordinal);
        Assert.Equal(["deploy", "health", "rollback", "rollback-health"], result.Steps.Select(s => s.Step));
        Assert.Equal([true, false, true, true], result.Steps.Select(s => s.Passed));
        Assert.Equal(["dev v1 100", "dev v2-broken 100", "dev v1 100"], ws.Lines("deploys.log"));
        Assert.Equal((200, "v1"), await DeploymentWorkspace.GetAsync(port, "/version"));
        Assert.Equal((200, "ok"), await DeploymentWorkspace.GetAsync(port, "/health"));
    }

    [Fact]
    public async Task The_rollback_command_is_used_when_configured_and_gets_both_versions()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var rollback = $"echo \"rollback {{version}} -> {{previous_version}}\" >> rollbacks.log && AIRLOCK_VERSION={{previous_version}} {Deploy(port)}";
        var app = DeploymentWorkspace.App(Deploy(port), rollback: rollback);
        await ws.BuildAsync(app);
        var first = await ws.Deployer.DeployAsync(ws.Request(app, "v1", previous: null), ws.Observer, CancellationToken.None);
        Assert.True(first.Outcome == DeploymentResult.Live, ws.Why(port, first));

        var result = await ws.Deployer.DeployAsync(ws.Request(app with { Health = DeploymentWorkspace.HealthChecksForAFailingVersion }, "v2-broken", previous: "v1"), ws.Observer, CancellationToken.None);

        Assert.True(result.Outcome == DeploymentResult.RolledBack, ws.Why(port, result));
        Assert.Equal(["rollback v2-broken -> v1"], ws.Lines("rollbacks.log"));
        Assert.Equal((200, "v1"), await DeploymentWorkspace.GetAsync(port, "/version"));
    }

    [Fact]
    public async Task A_failed_first_deployment_has_nothing_to_roll_back_to()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var app = DeploymentWorkspace.App(Deploy(port), health: [new HttpCheck("{url}/health", 200, 5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), null)]);
        await ws.BuildAsync(app);

        var result = await ws.Deployer.DeployAsync(ws.Request(app, "v1-broken", previous: null), ws.Observer, CancellationToken.None);

        Assert.True(result.Outcome == DeploymentResult.Failed, ws.Why(port, result));
        Assert.EndsWith("; no previous version to roll back to (first deployment)", result.Statement, StringComparison.Ordinal);
        Assert.Equal(["deploy", "health"], result.Steps.Select(s => s.Step));
        Assert.Equal(["dev v1-broken 100"], ws.Lines("deploys.log"));
    }

    [Fact]
    public async Task A_canary_with_a_broken_version_is_rolled_back_after_the_first_step()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var canary = new DeploymentStrategy(DeploymentStrategyKind.Canary, [50, 100], TimeSpan.FromMilliseconds(300));
        var app = DeploymentWorkspace.App(Deploy(port), canary, health: [new HttpCheck("{url}/health", 200, 75, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), null, TimeSpan.FromSeconds(60)), DeploymentWorkspace.HealthChecks[1]]);
        await ws.BuildAsync(app);
        var first = await ws.Deployer.DeployAsync(ws.Request(app, "v1", previous: null), ws.Observer, CancellationToken.None);
        Assert.True(first.Outcome == DeploymentResult.Live, ws.Why(port, first));
        Assert.Equal("web v1 is live in dev after canary steps 50%, 100%", first.Statement);

        var result = await ws.Deployer.DeployAsync(ws.Request(app, "v2-broken", previous: "v1"), ws.Observer, CancellationToken.None);

        Assert.True(result.Outcome == DeploymentResult.RolledBack, ws.Why(port, result));
        Assert.StartsWith("web v2-broken in dev at 50%: failed health checks (http http://127.0.0.1:", result.Statement, StringComparison.Ordinal);
        Assert.Equal(["deploy", "pause", "health", "rollback", "rollback-health"], result.Steps.Select(s => s.Step));
        Assert.Equal(["dev v1 50", "dev v1 100", "dev v2-broken 50", "dev v1 100"], ws.Lines("deploys.log"));
        Assert.Equal((200, "v1"), await DeploymentWorkspace.GetAsync(port, "/version"));
    }

    [Fact]
    public async Task Canary_pauses_are_waited_on_the_services_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        await using var ws = await DeploymentWorkspace.CreateAsync(clock);
        var canary = new DeploymentStrategy(DeploymentStrategyKind.Canary, [10, 100], TimeSpan.FromHours(1));
        var app = DeploymentWorkspace.App("echo {percent} >> percents.log", canary, health: []);
        // Command time limits run on the same clock; keep them far beyond the hours this test advances.
        var environment = ws.Dev with { Apply = ws.Dev.Apply with { Timeout = TimeSpan.FromDays(30) } };
        var started = TimeProvider.System.GetTimestamp();

        var deploying = ws.Deployer.DeployAsync(ws.Request(app, "v1", null, environment: environment), ws.Observer, CancellationToken.None);
        while (!deploying.IsCompleted)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), "the canary did not finish");
            // A pause is on while its step's deploy is logged and the next one is not; an advance made
            // before the delay is armed is lost, so keep advancing until the deployment moves on.
            var announced = ws.Observer.Steps.Count(s => s.StartsWith("pause", StringComparison.Ordinal));
            if (announced > 0 && ws.Lines("percents.log").Length == announced)
            {
                clock.Advance(TimeSpan.FromMinutes(30));
            }

            await Task.Delay(20);
        }

        var result = await deploying;
        Assert.Equal(DeploymentResult.Live, result.Outcome);
        Assert.Equal(["10", "100"], ws.Lines("percents.log"));
        Assert.Equal(["deploy", "pause", "health", "deploy", "pause", "health"], result.Steps.Select(s => s.Step));
        var pauses = result.Steps.Where(s => s.Step == "pause").Select(s => s.At).ToList();
        Assert.True(pauses[0] >= clock.Start.AddHours(1), $"first pause ended at {pauses[0]:O}");
        Assert.True(pauses[1] >= pauses[0].AddHours(1), $"second pause ended at {pauses[1]:O}");
    }

    [Fact]
    public async Task A_canary_waits_its_pause_on_the_clock_and_stops_when_cancelled()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var canary = new DeploymentStrategy(DeploymentStrategyKind.Canary, [10, 100], TimeSpan.FromHours(1));
        var app = DeploymentWorkspace.App(Deploy(port), canary);
        await ws.BuildAsync(app);
        using var cancel = new CancellationTokenSource();

        var deploying = ws.Deployer.DeployAsync(ws.Request(app, "v1", previous: null), ws.Observer, cancel.Token);
        while (!ws.Observer.Steps.Any(s => s.StartsWith("pause", StringComparison.Ordinal)))
        {
            Assert.False(deploying.IsCompleted, "the deployment ended before its pause");
            await Task.Delay(50);
        }

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploying);
        Assert.Contains("pause 1h at 10%", ws.Observer.Steps);
        Assert.Equal(["dev v1 10"], ws.Lines("deploys.log"));
    }
}
