using System.Diagnostics.CodeAnalysis;

using Airlock.Application.Verification;
using Airlock.Domain.Config;
using Airlock.Engines.Processes;

namespace Airlock.Application.Deployments;

/// <summary>One deployment of an application version into one environment (and region), as the release asks for it.</summary>
/// <param name="App">The application's config.</param>
/// <param name="Environment">The environment deployed to (its apply timeout bounds each command).</param>
/// <param name="Region">The region of this wave, or null.</param>
/// <param name="Version">The version being deployed.</param>
/// <param name="PreviousVersion">The version live before, or null on a first deployment (then there is nothing to roll back to).</param>
/// <param name="LiveColor">Blue-green: the colour serving traffic now (<c>blue</c> or <c>green</c>), or null when nothing is live.</param>
/// <param name="ArtifactDirectory">The release's build output (built once by <see cref="ApplicationDeployer.BuildAsync"/>).</param>
/// <param name="InfraOutputsJson">A JSON object of the stacks' outputs, handed to commands as <c>AIRLOCK_INFRA_OUTPUTS</c>.</param>
/// <param name="Placeholders">Extra placeholder values from the caller; deployment outputs and built-in placeholders win over them.</param>
public sealed record DeploymentRequest(
    ApplicationConfig App,
    EnvironmentConfig Environment,
    string? Region,
    string Version,
    string? PreviousVersion,
    string? LiveColor,
    string ArtifactDirectory,
    string InfraOutputsJson,
    IReadOnlyDictionary<string, string> Placeholders)
{
    /// <summary>
    /// The artifact the previous version was deployed from (its release's build), when it still exists: a rollback by
    /// redeploying runs with it as AIRLOCK_ARTIFACT_DIR, and every command sees it as AIRLOCK_PREVIOUS_ARTIFACT_DIR.
    /// </summary>
    public string? PreviousArtifactDirectory { get; init; }

    /// <summary>Secret values (e.g. resolved credentials) redacted from every command's output and every check.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>Variables added to every command's environment (e.g. an identity profile's credentials); their values are redacted too.</summary>
    public IReadOnlyDictionary<string, string> CredentialEnvironment { get; init; } = new Dictionary<string, string>();
}

/// <summary>One step of a deployment, for evidence and release progress.</summary>
/// <param name="Step"><c>deploy</c>, <c>smoke</c>, <c>health</c>, <c>switch</c>, <c>pause</c>, <c>rollback</c>, <c>switch-back</c> or <c>rollback-health</c>.</param>
/// <param name="Passed">True when the step succeeded.</param>
/// <param name="Detail">One redacted line: what ran (version, colour, percent) and how it ended.</param>
/// <param name="At">When the step ended.</param>
public sealed record DeploymentStepLog(string Step, bool Passed, string Detail, DateTimeOffset At);

/// <summary>How a deployment ended.</summary>
/// <param name="Outcome"><see cref="Live"/>, <see cref="RolledBack"/> or <see cref="Failed"/>.</param>
/// <param name="Color">Blue-green: the colour serving traffic afterwards; null for other strategies.</param>
/// <param name="Statement">One line for people: what happened and what is serving now.</param>
/// <param name="Steps">Every step in order.</param>
/// <param name="Health">Every health-check outcome, in order, including those of a rollback.</param>
/// <param name="Outputs">The <c>name=value</c> lines the commands wrote to <c>$AIRLOCK_OUTPUTS</c> (last write wins); not secrets by contract.</param>
public sealed record DeploymentResult(
    string Outcome,
    string? Color,
    string Statement,
    IReadOnlyList<DeploymentStepLog> Steps,
    IReadOnlyList<CheckOutcome> Health,
    IReadOnlyDictionary<string, string> Outputs)
{
    /// <summary>The new version serves traffic and passed its health checks.</summary>
    public const string Live = "live";

    /// <summary>The new version failed; the previous version was restored and passes its health checks.</summary>
    public const string RolledBack = "rolled_back";

    /// <summary>The new version failed and the previous version was not (or could not be) restored, or traffic never moved.</summary>
    public const string Failed = "failed";
}

/// <summary>The result of a build, test or soak.</summary>
/// <param name="Passed">True when it succeeded.</param>
/// <param name="Statement">One redacted line saying what happened.</param>
/// <param name="Checks">Check outcomes (soak: the last round); empty for build and test.</param>
public sealed record StepResult(bool Passed, string Statement, IReadOnlyList<CheckOutcome> Checks);

/// <summary>Receives a deployment's progress lines and its commands' (redacted) output.</summary>
public interface IDeploymentObserver
{
    /// <summary>One progress line, e.g. "deploy v2 on green".</summary>
    void Report(string message);

    /// <summary>Where command output goes, already redacted.</summary>
    IOutputSink Output { get; }
}
