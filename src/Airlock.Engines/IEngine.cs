using System.Text.Json;

using Airlock.Domain.Failures;
using Airlock.Engines.Processes;

namespace Airlock.Engines;

/// <summary>
/// The one interface every tool adapter implements and everything above the engines uses.
/// Failures surface as <see cref="EngineStepFailedException"/> carrying the evidence the failure
/// classifier needs; misconfiguration as <see cref="EngineConfigurationException"/>.
/// </summary>
public interface IEngine
{
    /// <summary>"opentofu", "terraform", "pulumi" or "command".</summary>
    string Kind { get; }

    /// <summary>The tool's version (and, for OpenTofu/Terraform, provider selections).</summary>
    Task<ToolVersion> GetVersionAsync(CancellationToken cancellationToken);

    /// <summary>Prepares the working directory (providers, stack selection); checks the required tool version.</summary>
    Task InitAsync(CancellationToken cancellationToken);

    /// <summary>Plans into a saved artifact inside <paramref name="artifactDirectory"/>.</summary>
    Task<PlanArtifact> PlanAsync(string artifactDirectory, CancellationToken cancellationToken);

    /// <summary>Writes the artifact's plan as Terraform-format plan JSON (for the plan summary) and returns its path.</summary>
    Task<PlanJson> ShowAsync(PlanArtifact artifact, CancellationToken cancellationToken);

    /// <summary>Applies exactly the saved artifact.</summary>
    Task<ApplyResult> ApplyAsync(PlanArtifact artifact, CancellationToken cancellationToken);

    /// <summary>A fresh plan plus its JSON, for comparison with the approved plan (re-plan mode).</summary>
    Task<(PlanArtifact Artifact, PlanJson Json)> ReplanAsync(string artifactDirectory, CancellationToken cancellationToken);

    /// <summary>A fresh plan that only answers "would anything change?".</summary>
    Task<DriftResult> CheckDriftAsync(CancellationToken cancellationToken);

    /// <summary>State serial (or update version) and lineage, to decide from evidence whether mutation happened.</summary>
    Task<StateVersion> GetStateVersionAsync(CancellationToken cancellationToken);

    /// <summary>The stack's outputs as a JSON object.</summary>
    Task<JsonElement> GetOutputsAsync(CancellationToken cancellationToken);
}

/// <summary>Tool name and version; provider selections where the tool reports them.</summary>
public sealed record ToolVersion(string Tool, string Version, IReadOnlyDictionary<string, string> ProviderSelections);

/// <summary>A saved plan: the engine's own artifact and what binds it.</summary>
/// <param name="Directory">Directory holding the artifact files.</param>
/// <param name="PlanFile">The engine's saved plan (opaque to Airlock), or null when the engine keeps none.</param>
/// <param name="HasChanges">True when the plan proposes changes.</param>
/// <param name="DependencyLockDigest">"sha256:…" of the dependency lock file (.terraform.lock.hcl) the plan was made with, when there is one.</param>
/// <param name="EventLogFile">Engine event log written while planning (Pulumi), when there is one.</param>
public sealed record PlanArtifact(string Directory, string? PlanFile, bool HasChanges, string? DependencyLockDigest, string? EventLogFile = null);

/// <summary>Terraform-format plan JSON written to a file (the input of the plan summary).</summary>
public sealed record PlanJson(string FilePath)
{
    /// <summary>Opens the JSON for streaming parsers.</summary>
    public Stream OpenRead() => File.OpenRead(FilePath);
}

/// <summary>A completed apply and what it reports it changed.</summary>
public sealed record ApplyResult(ProcessResult Process, ChangeCounts Changes);

/// <summary>Drift check answer: exit code 0 = no drift, 2 = drift (OpenTofu -detailed-exitcode semantics).</summary>
public sealed record DriftResult(bool Drifted, ProcessResult Process);

/// <summary>State serial and lineage (OpenTofu/Terraform) or update version and deployment digest (Pulumi).</summary>
public sealed record StateVersion(long? Serial, string? Lineage, string? ContentDigest = null);

/// <summary>An engine step failed; carries what the classifier needs.</summary>
public sealed class EngineStepFailedException : Exception
{
    /// <summary>Creates the failure of <paramref name="operation"/>.</summary>
    public EngineStepFailedException(string operation, RunPhase phase, ProcessResult process, string classificationText, ChangeCounts? reportedChanges = null)
        : base($"{operation} failed ({Describe(process)})")
    {
        ReportedChanges = reportedChanges;
        Operation = operation;
        Phase = phase;
        Process = process;
        ClassificationText = classificationText;
    }

    /// <summary>The failed step, e.g. "apply".</summary>
    public string Operation { get; }

    /// <summary>Before or after mutation started.</summary>
    public RunPhase Phase { get; }

    /// <summary>The process outcome (redacted output).</summary>
    public ProcessResult Process { get; }

    /// <summary>Redacted text for the classifier.</summary>
    public string ClassificationText { get; }

    /// <summary>Changes the engine reported in structured form (Pulumi events), if any.</summary>
    public ChangeCounts? ReportedChanges { get; }

    /// <summary>The observation for <see cref="FailureClassifier"/>, with serials read around the step.</summary>
    public FailureObservation ToObservation(long? serialBefore = null, long? serialAfter = null) =>
        new(Operation, Phase, Process.ExitCode, Process.Termination, ClassificationText, serialBefore, serialAfter, ReportedChanges);

    private static string Describe(ProcessResult process) => process.Termination switch
    {
        Termination.Exited => $"exit code {process.ExitCode}",
        Termination.TimedOut => "timed out",
        Termination.Cancelled => "cancelled",
        _ => "killed",
    };
}

/// <summary>The engine is configured wrongly or the tool broke its contract (wrong version, missing plan JSON, bad output).</summary>
public sealed class EngineConfigurationException(string message) : Exception(message);

/// <summary>Process settings shared by every engine; the lead maps them from airlock.yaml.</summary>
public sealed record EngineProcessOptions
{
    /// <summary>The stack's directory.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>Plain variables for the tool.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The identity profile's variables, resolved at run time: injected, redacted, never logged.</summary>
    public IReadOnlyDictionary<string, string> CredentialEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Other secret values to redact from output.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>Limit for one tool invocation.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>SIGINT-to-kill grace period (the environment's graceful-shutdown seconds).</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public override string ToString() => $"engine process in {WorkingDirectory} ({CredentialEnvironment.Count} credential variables, values hidden)";

    internal ProcessSpec Spec(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? extraEnvironment = null) => new()
    {
        FileName = fileName,
        Arguments = arguments,
        WorkingDirectory = WorkingDirectory,
        Environment = extraEnvironment is null ? Environment : Environment.Concat(extraEnvironment).GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
        CredentialEnvironment = CredentialEnvironment,
        Secrets = Secrets,
        Timeout = Timeout,
        GracePeriod = GracePeriod,
    };
}
