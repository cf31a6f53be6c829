using System.Globalization;

using Airlock.Application.Deployments;
using Airlock.Domain.Config;

namespace Airlock.Application.Tests.Deployments;

/// <summary>Build once and reuse, test gating, placeholders and outputs flowing between commands and checks, and soak.</summary>
public sealed class BuildOutputsAndSoakTests
{
    private static string Deploy(int port) => $"sh ./deploy.sh {port.ToString(CultureInfo.InvariantCulture)}";

    [Fact]
    public async Task The_build_runs_once_and_every_environment_deploys_the_same_artifact()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var (devPort, prodPort) = (DeploymentWorkspace.FreePort(), DeploymentWorkspace.FreePort());
        var devApp = DeploymentWorkspace.App(Deploy(devPort));
        var prodApp = DeploymentWorkspace.App(Deploy(prodPort));

        var first = await ws.Deployer.BuildAsync(devApp, "v7", ws.ArtifactDirectory, ws.Observer, CancellationToken.None);
        var again = await ws.Deployer.BuildAsync(prodApp, "v7", ws.ArtifactDirectory, ws.Observer, CancellationToken.None);
        var dev = await ws.Deployer.DeployAsync(ws.Request(devApp, "v7", null), ws.Observer, CancellationToken.None);
        var prod = await ws.Deployer.DeployAsync(ws.Request(prodApp, "v7", null, environment: ws.Prod), ws.Observer, CancellationToken.None);

        Assert.Equal((true, $"built web v7 into {ws.ArtifactDirectory}"), (first.Passed, first.Statement));
        Assert.Equal((true, $"web v7 was already built in {ws.ArtifactDirectory}; the artifact is reused"), (again.Passed, again.Statement));
        Assert.Equal(["v7"], ws.Lines("builds.log"));
        Assert.True(dev.Outcome == DeploymentResult.Live, ws.Why(devPort, dev));
        Assert.True(prod.Outcome == DeploymentResult.Live, ws.Why(prodPort, prod));
        Assert.Equal(["dev v7 100", "prod v7 100"], ws.Lines("deploys.log"));
        Assert.Equal((200, "v7"), await DeploymentWorkspace.GetAsync(prodPort, "/version"));
    }

    [Fact]
    public async Task A_failed_build_leaves_no_artifact_and_a_failed_test_says_why()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var app = DeploymentWorkspace.App("true") with { Build = "echo partial > \"$AIRLOCK_ARTIFACT_DIR/half\"; echo 'compiler: error CS1002' >&2; exit 3", Test = "echo '2 of 9 tests failed' >&2; exit 1" };

        var build = await ws.Deployer.BuildAsync(app, "v1", ws.ArtifactDirectory, ws.Observer, CancellationToken.None);
        Directory.CreateDirectory(ws.ArtifactDirectory);
        var test = await ws.Deployer.TestAsync(app, "v1", ws.ArtifactDirectory, ws.Observer, CancellationToken.None);

        Assert.Equal((false, "build of web v1 failed: exit code 3: compiler: error CS1002"), (build.Passed, build.Statement));
        Assert.Empty(Directory.EnumerateFileSystemEntries(ws.ArtifactDirectory));
        Assert.Equal((false, "tests of web v1 failed: exit code 1: 2 of 9 tests failed"), (test.Passed, test.Statement));
    }

    [Fact]
    public async Task Placeholders_variables_and_outputs_flow_from_deploy_to_smoke_and_checks()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var deploy = "echo \"region=$AIRLOCK_REGION env={env} infra=$AIRLOCK_INFRA_OUTPUTS artifact=$AIRLOCK_ARTIFACT_DIR\" > seen.txt"
            + " && echo 'greeting=hello' >> \"$AIRLOCK_OUTPUTS\" && echo 'token_note=not-a-secret' >> \"$AIRLOCK_OUTPUTS\"";
        var app = DeploymentWorkspace.App(deploy, smoke: "test {greeting} = hello && test {ticket} = T-1 && echo \"$AIRLOCK_VERSION {region}\" > smoke.txt",
            health: [new CommandCheck("test {greeting}-{version}-{app} = hello-v3-web && test \"$AIRLOCK_ENVIRONMENT\" = prod", TimeSpan.FromSeconds(10))]);
        var callerPlaceholders = new Dictionary<string, string> { ["ticket"] = "T-1", ["greeting"] = "overridden-by-output" };
        var request = ws.Request(app, "v3", null, placeholders: callerPlaceholders, environment: ws.Prod) with { Region = "eu-west-1", InfraOutputsJson = """{"db":"db.internal"}""" };

        var result = await ws.Deployer.DeployAsync(request, ws.Observer, CancellationToken.None);

        Assert.Equal(DeploymentResult.Live, result.Outcome);
        Assert.Equal("web v3 is live in prod/eu-west-1", result.Statement);
        Assert.Equal($"region=eu-west-1 env=prod infra={{\"db\":\"db.internal\"}} artifact={ws.ArtifactDirectory}", ws.Read("seen.txt").Trim());
        Assert.Equal("v3 eu-west-1", ws.Read("smoke.txt").Trim());
        Assert.Equal(new Dictionary<string, string> { ["greeting"] = "hello", ["token_note"] = "not-a-secret" }, result.Outputs);
        Assert.Equal(["deploy", "smoke", "health"], result.Steps.Select(s => s.Step));
        Assert.True(Assert.Single(result.Health).Passed);
    }

    [Fact]
    public async Task A_value_that_would_inject_shell_syntax_stops_the_deploy_before_anything_runs()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var app = DeploymentWorkspace.App("echo ran > ran.txt; echo {ticket}");

        var result = await ws.Deployer.DeployAsync(ws.Request(app, "v1", null, placeholders: new Dictionary<string, string> { ["ticket"] = "x;reboot" }), ws.Observer, CancellationToken.None);

        Assert.Equal(DeploymentResult.Failed, result.Outcome);
        Assert.Contains("placeholder {ticket} in deploy would put shell syntax into the command", result.Statement, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(ws.Root, "ran.txt")));
    }

    [Fact]
    public async Task A_malformed_output_line_fails_the_step_and_names_the_line()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var app = DeploymentWorkspace.App("echo 'url=http://x' >> \"$AIRLOCK_OUTPUTS\"; echo 'just text' >> \"$AIRLOCK_OUTPUTS\"");

        var result = await ws.Deployer.DeployAsync(ws.Request(app, "v1", null), ws.Observer, CancellationToken.None);

        Assert.Equal(DeploymentResult.Failed, result.Outcome);
        Assert.Contains("deploy failed (line 2 of $AIRLOCK_OUTPUTS is not name=value with a name of letters, digits and _: 'just text')", result.Statement, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secrets_never_reach_the_output_the_steps_or_the_statement()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var app = DeploymentWorkspace.App("echo \"using $DEPLOY_TOKEN\"; echo \"denied for $DEPLOY_TOKEN\" >&2; exit 1", health: []);
        var request = ws.Request(app, "v1", null) with { CredentialEnvironment = new Dictionary<string, string> { ["DEPLOY_TOKEN"] = "s3cr3t-token-value" } };

        var result = await ws.Deployer.DeployAsync(request, ws.Observer, CancellationToken.None);

        Assert.Equal(DeploymentResult.Failed, result.Outcome);
        Assert.Contains("denied for [REDACTED]", result.Statement, StringComparison.Ordinal);
        Assert.Contains("using [REDACTED]", ws.Observer.OutputLines);
        Assert.DoesNotContain(ws.Observer.OutputLines.Concat(result.Steps.Select(s => s.Detail)).Append(result.Statement), l => l.Contains("s3cr3t", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Soak_passes_while_the_app_stays_healthy()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var app = DeploymentWorkspace.App(Deploy(port));
        await ws.BuildAsync(app);
        var deployed = await ws.Deployer.DeployAsync(ws.Request(app, "v1", null), ws.Observer, CancellationToken.None);
        Assert.True(deployed.Outcome == DeploymentResult.Live, ws.Why(port, deployed));
        var extra = new CheckConfig[] { new TcpCheck("127.0.0.1", port, TimeSpan.FromSeconds(2)) };

        var soak = await ws.Deployer.SoakAsync(app, extra, ws.Dev, null, "v1", deployed.Outputs, TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(200), ws.Observer, CancellationToken.None);

        Assert.True(soak.Passed, $"{soak.Statement}\n{ws.AppLog(port)}");
        Assert.Matches(@"^soaked web v1 in dev for (\d+ms|[0-9hms]+): ([2-9]|\d\d) rounds of health checks passed$", soak.Statement);
        Assert.Equal(["http", "http", "tcp"], soak.Checks.Select(c => c.Kind));
    }

    [Fact]
    public async Task Soak_ends_at_the_first_failed_round_when_the_app_stops()
    {
        await using var ws = await DeploymentWorkspace.CreateAsync();
        var port = DeploymentWorkspace.FreePort();
        var app = DeploymentWorkspace.App(Deploy(port));
        await ws.BuildAsync(app);
        var deployed = await ws.Deployer.DeployAsync(ws.Request(app, "v1", null), ws.Observer, CancellationToken.None);
        Assert.True(deployed.Outcome == DeploymentResult.Live, ws.Why(port, deployed));
        var soakChecks = new CheckConfig[] { new HttpCheck("{url}/health", 200, 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), null) };
        var started = TimeProvider.System.GetTimestamp();

        var soaking = ws.Deployer.SoakAsync(null, soakChecks, ws.Dev, null, "v1", deployed.Outputs, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(200), ws.Observer, CancellationToken.None);
        while (ws.Observer.Steps.Count(s => s.StartsWith("soak dev: health round", StringComparison.Ordinal)) < 3)
        {
            Assert.False(soaking.IsCompleted, "the soak ended while the app was still up");
            await Task.Delay(50);
        }

        ws.KillAppOn(port);
        var soak = await soaking;

        Assert.False(soak.Passed);
        // The detail is "connection refused", a reset or a cut-short response, depending on when the kill lands.
        Assert.Matches(@"^soak of dev failed in round \d+ after (\d+ms|[0-9hms]+): http http://127\.0\.0\.1:\d+/health: ", soak.Statement);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), "the soak did not end at the first failure");
        Assert.False(Assert.Single(soak.Checks).Passed);
    }
}
