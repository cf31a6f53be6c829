using System.Globalization;

using Airlock.Application.Verification;
using Airlock.Domain.Config;
using Airlock.Domain.Failures;
using Airlock.Engines.Processes;

namespace Airlock.Application.Deployments;

/// <summary>
/// Builds, tests, deploys and soaks an application (DESIGN.md §5, docs/releases.md "Applications"):
/// every command is a <c>/bin/sh -c</c> line run in the workspace root; strategies direct,
/// blue-green and canary; on failed health checks the application (never the infrastructure) is
/// rolled back to the previous version. Failures are outcomes; only cancellation throws.
/// </summary>
public sealed class ApplicationDeployer(AirlockServices services)
{
    /// <summary>The colour deployed first when nothing is live.</summary>
    public const string Blue = "blue";

    /// <summary>The other colour.</summary>
    public const string Green = "green";

    /// <summary>Marker written into the artifact directory after a successful build, holding the version built.</summary>
    public const string BuiltMarker = ".airlock-built";

    // Build and test are not tied to an environment, so they have no apply timeout to borrow.
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromHours(1);
    private static readonly TimeSpan BuildGracePeriod = TimeSpan.FromSeconds(30);

    internal VerificationRunner Verification => services.Verification;

    internal TimeProvider Time => services.Time;

    internal string WorkspaceRoot => Root;

    private string Root => services.Workspace.Root;

    /// <summary>
    /// Runs the build command once into <paramref name="artifactDirectory"/> (created). When the
    /// directory already holds a successful build of <paramref name="version"/>, nothing runs: a
    /// release builds once and promotes that artifact everywhere. A failed build leaves no directory behind.
    /// </summary>
    public async Task<StepResult> BuildAsync(ApplicationConfig app, string version, string artifactDirectory, IDeploymentObserver observer, CancellationToken ct)
    {
        var marker = Path.Combine(artifactDirectory, BuiltMarker);
        if (File.Exists(marker) && (await File.ReadAllTextAsync(marker, ct)).Trim() == version)
        {
            observer.Report($"build {app.Name} {version}: already built in {artifactDirectory}");
            return new StepResult(true, $"{app.Name} {version} was already built in {artifactDirectory}; the artifact is reused", []);
        }

        var created = !Directory.Exists(artifactDirectory);
        Directory.CreateDirectory(artifactDirectory);
        if (app.Build is null)
        {
            await File.WriteAllTextAsync(marker, version, ct);
            return new StepResult(true, $"{app.Name} has no build command; the artifact directory is empty", []);
        }

        observer.Report($"build {app.Name} {version}");
        var run = await RunBuildOrTestAsync("build", app.Build, app, version, artifactDirectory, observer, ct);
        if (!run.Passed)
        {
            if (created)
            {
                // Nothing partially written: a retried release must not mistake half a build for an artifact.
                TryDelete(artifactDirectory);
            }

            return new StepResult(false, $"build of {app.Name} {version} failed: {run.Detail}", []);
        }

        await File.WriteAllTextAsync(marker, version, ct);
        return new StepResult(true, $"built {app.Name} {version} into {artifactDirectory}", []);
    }

    /// <summary>Runs the test command against the built artifact; false with a statement when it fails.</summary>
    public async Task<StepResult> TestAsync(ApplicationConfig app, string version, string artifactDirectory, IDeploymentObserver observer, CancellationToken ct)
    {
        if (app.Test is null)
        {
            return new StepResult(true, $"{app.Name} has no test command", []);
        }

        observer.Report($"test {app.Name} {version}");
        var run = await RunBuildOrTestAsync("test", app.Test, app, version, artifactDirectory, observer, ct);
        return run.Passed
            ? new StepResult(true, $"tests of {app.Name} {version} passed", [])
            : new StepResult(false, $"tests of {app.Name} {version} failed: {run.Detail}", []);
    }

    /// <summary>Deploys <see cref="DeploymentRequest.Version"/> with the application's strategy, rolling the application back on failure.</summary>
    /// <exception cref="OperationCanceledException">When <paramref name="ct"/> is cancelled (no rollback is attempted then).</exception>
    public async Task<DeploymentResult> DeployAsync(DeploymentRequest request, IDeploymentObserver observer, CancellationToken ct)
    {
        using var scope = new DeploymentScope(request.App.Name, request.Environment.Name, request.Region, request.PreviousVersion,
            Path.GetFullPath(request.ArtifactDirectory), request.PreviousArtifactDirectory is { } previous ? Path.GetFullPath(previous) : null, request.InfraOutputsJson, request.Placeholders);
        var deployment = new Deployment(this, request, scope, observer);
        return request.App.Strategy.Kind switch
        {
            DeploymentStrategyKind.BlueGreen => await deployment.BlueGreenAsync(ct),
            DeploymentStrategyKind.Canary => await deployment.CanaryAsync(ct),
            _ => await deployment.DirectAsync(ct),
        };
    }

    /// <summary>
    /// Repeats the health checks (the application's, then <paramref name="extraChecks"/>, e.g. the
    /// environment's promotion health) every <paramref name="interval"/> until <paramref name="duration"/>
    /// has elapsed on the services' clock: a round at the start and one at the end. The first failed round ends it.
    /// </summary>
    public async Task<StepResult> SoakAsync(ApplicationConfig? app, IReadOnlyList<CheckConfig> extraChecks, EnvironmentConfig env, string? region,
        string version, IReadOnlyDictionary<string, string> placeholders, TimeSpan duration, TimeSpan interval, IDeploymentObserver observer, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        var checks = (app?.Health ?? []).Concat(extraChecks).ToList();
        var what = app is null ? $"{env.Name}" : $"{app.Name} {version} in {env.Name}";
        if (checks.Count == 0)
        {
            return new StepResult(true, $"soak of {what}: no health checks configured", []);
        }

        var values = new Dictionary<string, string>(placeholders, StringComparer.Ordinal) { ["env"] = env.Name, ["version"] = version };
        if (app is not null)
        {
            values["app"] = app.Name;
        }

        if (region is not null)
        {
            values["region"] = region;
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AIRLOCK_APP"] = app?.Name ?? "",
            ["AIRLOCK_ENVIRONMENT"] = env.Name,
            ["AIRLOCK_REGION"] = region ?? "",
            ["AIRLOCK_VERSION"] = version,
        };
        var context = new VerificationContext(Root, values, environment, [], NoDriftProbe);
        var started = services.Time.GetTimestamp();
        var rounds = 0;
        while (true)
        {
            rounds++;
            observer.Report($"soak {what}: health round {rounds.ToString(CultureInfo.InvariantCulture)}");
            var outcomes = await services.Verification.RunAsync(checks, context, ct);
            var elapsed = services.Time.GetElapsedTime(started);
            if (outcomes.FirstOrDefault(o => !o.Passed) is { } failed)
            {
                return new StepResult(false, $"soak of {what} failed in round {rounds.ToString(CultureInfo.InvariantCulture)} after {VerificationRunner.FormatDuration(elapsed)}: {Describe(failed)}", outcomes);
            }

            if (elapsed >= duration)
            {
                return new StepResult(true, $"soaked {what} for {VerificationRunner.FormatDuration(elapsed)}: {Plural(rounds, "round")} of health checks passed", outcomes);
            }

            var remaining = duration - elapsed;
            await Task.Delay(remaining < interval ? remaining : interval, services.Time, ct);
        }
    }

    private async Task<(bool Passed, string Detail)> RunBuildOrTestAsync(string step, string template, ApplicationConfig app, string version, string artifactDirectory, IDeploymentObserver observer, CancellationToken ct)
    {
        var placeholders = new Dictionary<string, string>(StringComparer.Ordinal) { ["app"] = app.Name, ["version"] = version };
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AIRLOCK_APP"] = app.Name,
            ["AIRLOCK_VERSION"] = version,
            ["AIRLOCK_ARTIFACT_DIR"] = Path.GetFullPath(artifactDirectory),
        };
        return await RunShellAsync(step, template, placeholders, environment, new Dictionary<string, string>(), [], BuildTimeout, BuildGracePeriod, observer, ct);
    }

    /// <summary>Runs one configured shell line; a failure is a result, never an exception (except cancellation).</summary>
    internal async Task<(bool Passed, string Detail)> RunShellAsync(string field, string template, IReadOnlyDictionary<string, string> placeholders,
        IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> credentials, IReadOnlyList<string> secrets,
        TimeSpan timeout, TimeSpan gracePeriod, IDeploymentObserver observer, CancellationToken ct)
    {
        var command = PlaceholderText.Substitute(template, placeholders, shellWordsOnly: true);
        if (!command.IsComplete)
        {
            return (false, command.Problem(field));
        }

        var spec = new ProcessSpec
        {
            FileName = "/bin/sh",
            Arguments = ["-c", command.Text],
            WorkingDirectory = Root,
            Environment = environment,
            CredentialEnvironment = credentials,
            Secrets = secrets,
            Timeout = timeout,
            GracePeriod = gracePeriod,
            StdoutMode = StdoutMode.Stream,
        };

        ProcessResult result;
        try
        {
            result = await services.Processes.RunAsync(spec, observer.Output, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (false, $"could not start: {e.Message}");
        }

        if (result.Termination == Termination.Cancelled)
        {
            ct.ThrowIfCancellationRequested();
        }

        return result switch
        {
            { Termination: Termination.Exited, ExitCode: 0 } => (true, "exit code 0"),
            { Termination: Termination.Exited, ExitCode: { } code } =>
                (false, WithLastLine($"exit code {code.ToString(CultureInfo.InvariantCulture)}", LastLine(result.Stderr) ?? LastLine(result.Stdout))),
            { Termination: Termination.TimedOut } => (false, $"timed out after {VerificationRunner.FormatDuration(timeout)}"),
            _ => (false, "killed by a signal Airlock did not send"),
        };
    }

    internal static Task<bool> NoDriftProbe(CancellationToken ct) =>
        throw new InvalidOperationException("drift checks belong to stacks; an application health check cannot run one");

    internal static string Describe(CheckOutcome outcome) => $"{outcome.Kind} {outcome.Target}: {outcome.Detail}";

    internal static string Plural(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString(CultureInfo.InvariantCulture)} {noun}s";

    private static string WithLastLine(string detail, string? line) => line is null ? detail : $"{detail}: {line}";

    private static string? LastLine(string output) =>
        output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) is { } line
            ? line.Length > 200 ? line[..200] + "…" : line
            : null;

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; the missing marker still keeps a later build from trusting it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
