using System.Globalization;

using Airlock.Application.Verification;
using Airlock.Domain.Config;

namespace Airlock.Application.Deployments;

/// <summary>One run of <see cref="ApplicationDeployer.DeployAsync"/>: the strategies, the rollback and the step log.</summary>
internal sealed class Deployment(ApplicationDeployer deployer, DeploymentRequest request, DeploymentScope scope, IDeploymentObserver observer)
{
    private readonly List<DeploymentStepLog> _steps = [];
    private readonly List<CheckOutcome> _health = [];

    private ApplicationConfig App => request.App;

    private string Where => request.Region is null ? request.Environment.Name : $"{request.Environment.Name}/{request.Region}";

    private string Label => $"{App.Name} {request.Version}";

    /// <summary>deploy → smoke → health; any failure rolls back.</summary>
    public async Task<DeploymentResult> DirectAsync(CancellationToken ct)
    {
        var failure = await DeploySmokeAndCheckAsync(new DeploymentFrame(request.Version, null, 100), ct);
        return failure is null
            ? Result(DeploymentResult.Live, null, $"{Label} is live in {Where}")
            : await RollBackAsync(failure, ct);
    }

    /// <summary>Each step: deploy at that percent → smoke → pause → health; any failure rolls back.</summary>
    public async Task<DeploymentResult> CanaryAsync(CancellationToken ct)
    {
        var steps = App.Strategy.Steps.Where(s => s is > 0 and <= 100).ToList();
        if (steps.Count == 0 || steps[^1] != 100)
        {
            // A canary that stops short would leave most traffic on the old version while reporting "live".
            steps.Add(100);
        }

        foreach (var percent in steps)
        {
            var frame = new DeploymentFrame(request.Version, null, percent);
            var failure = await DeployAndSmokeAsync(frame, ct)
                ?? await PauseAsync(percent, ct)
                ?? await HealthAsync("health", frame, ct);
            if (failure is not null)
            {
                return await RollBackAsync($"at {percent.ToString(CultureInfo.InvariantCulture)}%: {failure}", ct);
            }
        }

        return Result(DeploymentResult.Live, null, $"{Label} is live in {Where} after canary steps {string.Join(", ", steps.Select(s => s.ToString(CultureInfo.InvariantCulture) + "%"))}");
    }

    /// <summary>Deploy to the idle colour → smoke → health → switch → health; the old colour keeps running.</summary>
    public async Task<DeploymentResult> BlueGreenAsync(CancellationToken ct)
    {
        var live = request.LiveColor;
        if (live is not (null or ApplicationDeployer.Blue or ApplicationDeployer.Green))
        {
            return Result(DeploymentResult.Failed, live, $"{Label} was not deployed: the live colour '{live}' is neither blue nor green");
        }

        if (App.Strategy.Switch is not { } switchCommand)
        {
            return Result(DeploymentResult.Failed, live, $"{Label} was not deployed: blue-green needs strategy.switch");
        }

        var idle = live == ApplicationDeployer.Blue ? ApplicationDeployer.Green : ApplicationDeployer.Blue;
        var frame = new DeploymentFrame(request.Version, idle, null);
        if (await DeploySmokeAndCheckAsync(frame, ct) is { } before)
        {
            var stillServing = live is null ? "nothing was live" : $"{live} still serves {request.PreviousVersion ?? "the previous version"}";
            return Result(DeploymentResult.Failed, live, $"{Label} on {idle} in {Where}: {before}; traffic never moved ({stillServing})");
        }

        var after = await CommandAsync("switch", switchCommand, frame, $"switch traffic to {idle}", ct)
            ?? await HealthAsync("health", frame, ct);
        if (after is null)
        {
            var kept = live is null ? "" : $"; {live} keeps running for a fast rollback";
            return Result(DeploymentResult.Live, idle, $"{Label} is live on {idle} in {Where}{kept}");
        }

        var failure = $"{Label} after the switch to {idle} in {Where}: {after}";
        if (live is null || request.PreviousVersion is not { } previous)
        {
            return Result(DeploymentResult.Failed, idle, $"{failure}; no previous colour to switch back to (first deployment)");
        }

        var back = new DeploymentFrame(previous, live, null);
        var restored = await CommandAsync("switch-back", switchCommand, back, $"switch traffic back to {live}", ct)
            ?? await HealthAsync("rollback-health", back, ct);
        return restored is null
            ? Result(DeploymentResult.RolledBack, live, $"{failure}; switched back to {live}, where {previous} passes its health checks")
            : Result(DeploymentResult.Failed, live, $"{failure}; switching back to {live} failed too: {restored}");
    }

    private async Task<string?> DeploySmokeAndCheckAsync(DeploymentFrame frame, CancellationToken ct) =>
        await DeployAndSmokeAsync(frame, ct) ?? await HealthAsync("health", frame, ct);

    private async Task<string?> DeployAndSmokeAsync(DeploymentFrame frame, CancellationToken ct)
    {
        var failure = await CommandAsync("deploy", App.Deploy, frame, $"deploy {Describe(frame)}", ct);
        if (failure is null && App.Smoke is { } smoke)
        {
            failure = await CommandAsync("smoke", smoke, frame, $"smoke-test {Describe(frame)}", ct);
        }

        return failure;
    }

    private async Task<string?> PauseAsync(int percent, CancellationToken ct)
    {
        var pause = App.Strategy.Pause;
        if (pause > TimeSpan.Zero)
        {
            observer.Report($"pause {VerificationRunner.FormatDuration(pause)} at {percent.ToString(CultureInfo.InvariantCulture)}%");
            await Task.Delay(pause, deployer.Time, ct);
            Log("pause", true, $"{VerificationRunner.FormatDuration(pause)} at {percent.ToString(CultureInfo.InvariantCulture)}%");
        }

        return null;
    }

    /// <summary>Rolls the application back to the previous version: the rollback command, else the deploy command with the previous version at 100%.</summary>
    private async Task<DeploymentResult> RollBackAsync(string failure, CancellationToken ct)
    {
        if (request.PreviousVersion is not { } previous)
        {
            return Result(DeploymentResult.Failed, null, $"{Label} in {Where} {failure}; no previous version to roll back to (first deployment)");
        }

        var restoredFrame = new DeploymentFrame(previous, null, 100, request.PreviousArtifactDirectory);
        var restored = App.Rollback is { } rollback
            ? await CommandAsync("rollback", rollback, new DeploymentFrame(request.Version, null, 100), $"roll back {App.Name} to {previous}", ct)
            : await CommandAsync("rollback", App.Deploy, restoredFrame, $"roll back by deploying {App.Name} {previous}", ct);
        restored ??= await HealthAsync("rollback-health", restoredFrame, ct);
        return restored is null
            ? Result(DeploymentResult.RolledBack, null, $"{Label} in {Where} {failure}; rolled back to {previous}, which passes its health checks")
            : Result(DeploymentResult.Failed, null, $"{Label} in {Where} {failure}; rollback to {previous} failed too: {restored}");
    }

    /// <summary>Runs one command of the deployment, then reads its outputs; null when it passed, else why not.</summary>
    private async Task<string?> CommandAsync(string step, string template, DeploymentFrame frame, string description, CancellationToken ct)
    {
        observer.Report(description);
        var (passed, detail) = await deployer.RunShellAsync(step, template, scope.Placeholders(frame), scope.Environment(frame),
            request.CredentialEnvironment, request.Secrets, request.Environment.Apply.Timeout, request.Environment.Apply.GracefulShutdown, observer, ct);
        if (scope.ReadOutputs() is { } badOutputs)
        {
            (passed, detail) = (false, badOutputs);
        }

        Log(step, passed, $"{description}: {detail}");
        return passed ? null : $"{step} failed ({detail})";
    }

    /// <summary>Runs the health checks for one frame; null when all passed (or none are configured), else the first failure.</summary>
    private async Task<string?> HealthAsync(string step, DeploymentFrame frame, CancellationToken ct)
    {
        var what = $"health of {Describe(frame)}";
        if (App.Health.IsEmpty)
        {
            Log(step, true, $"{what}: no health checks configured");
            return null;
        }

        observer.Report(what);
        var context = new VerificationContext(deployer.WorkspaceRoot, scope.Placeholders(frame), scope.Environment(frame),
            [.. request.Secrets, .. request.CredentialEnvironment.Values], ApplicationDeployer.NoDriftProbe);
        var outcomes = await deployer.Verification.RunAsync(App.Health, context, ct);
        _health.AddRange(outcomes);
        var failed = outcomes.FirstOrDefault(o => !o.Passed);
        Log(step, failed is null, failed is null
            ? $"{what}: {ApplicationDeployer.Plural(outcomes.Count, "check")} passed"
            : $"{what}: {ApplicationDeployer.Describe(failed)}");
        return failed is null ? null : $"failed health checks ({ApplicationDeployer.Describe(failed)})";
    }

    private static string Describe(DeploymentFrame frame) =>
        frame.Version
        + (frame.Color is { } color ? $" on {color}" : "")
        + (frame.Percent is { } percent and < 100 ? $" at {percent.ToString(CultureInfo.InvariantCulture)}%" : "");

    private void Log(string step, bool passed, string detail) => _steps.Add(new DeploymentStepLog(step, passed, detail, deployer.Time.GetUtcNow()));

    private DeploymentResult Result(string outcome, string? color, string statement)
    {
        observer.Report(statement);
        return new DeploymentResult(outcome, color, statement, [.. _steps], [.. _health], new Dictionary<string, string>(scope.Outputs, StringComparer.Ordinal));
    }
}
