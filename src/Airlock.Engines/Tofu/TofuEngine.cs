using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

using Airlock.Domain.Failures;
using Airlock.Engines.Processes;

namespace Airlock.Engines.Tofu;

/// <summary>Settings of the OpenTofu/Terraform adapter; the lead maps them from airlock.yaml.</summary>
public sealed record TofuOptions
{
    /// <summary>"tofu", "terraform" or an absolute path to either.</summary>
    public required string BinaryPath { get; init; }

    /// <summary>"opentofu" or "terraform" (recorded in evidence).</summary>
    public string Kind { get; init; } = "opentofu";

    /// <summary>Version constraint the binary must satisfy, e.g. "~&gt; 1.8.0"; null = any.</summary>
    public string? RequiredVersion { get; init; }

    /// <summary>How long the tool itself waits for the state lock before failing with a lock error.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Upstream inputs (a JSON object), passed to every invocation as TF_VAR_&lt;name&gt;.</summary>
    public string InputsJson { get; init; } = "{}";

    /// <summary>Directory, environment, identity, timeout, grace period.</summary>
    public required EngineProcessOptions Process { get; init; }
}

/// <summary>
/// Drives the real OpenTofu or Terraform CLI: always non-interactive (-input=false, -no-color,
/// -lock-timeout), plans saved with -out and applied by file, -detailed-exitcode for changes and
/// drift, state pull for serial and lineage, show -json / output -json / version -json for documents.
/// </summary>
public sealed class TofuEngine(TofuOptions options, IProcessRunner runner, IOutputSink sink) : IEngine
{
    /// <summary>File name of the saved plan inside the artifact directory.</summary>
    public const string PlanFileName = "plan.tfplan";

    /// <summary>File name of the plan JSON written by <see cref="ShowAsync"/>.</summary>
    public const string PlanJsonFileName = "plan.json";

    private static readonly Dictionary<string, string> AutomationEnvironment = new()
    {
        // Documented switches for running in automation: shorter output, never prompt.
        ["TF_IN_AUTOMATION"] = "1",
        ["TF_INPUT"] = "0",
    };

    /// <inheritdoc />
    public string Kind => options.Kind;

    private string LockTimeoutArg => string.Create(CultureInfo.InvariantCulture, $"-lock-timeout={(int)options.LockTimeout.TotalSeconds}s");

    /// <inheritdoc />
    public async Task<ToolVersion> GetVersionAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("version", RunPhase.BeforeMutation, ["version", "-json"], StdoutMode.Capture, cancellationToken);
        try
        {
            using var doc = JsonDocument.Parse(result.Stdout);
            var version = doc.RootElement.GetProperty("terraform_version").GetString() ?? throw new EngineConfigurationException("version -json: terraform_version is null");
            var providers = new Dictionary<string, string>(StringComparer.Ordinal);
            if (doc.RootElement.TryGetProperty("provider_selections", out var selections) && selections.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in selections.EnumerateObject())
                {
                    providers[p.Name] = p.Value.GetString() ?? string.Empty;
                }
            }

            return new ToolVersion(Kind, version, providers);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new EngineConfigurationException($"{options.BinaryPath} version -json printed no version document: {e.Message}");
        }
    }

    /// <summary>Fails with a one-line reason when the binary does not satisfy <see cref="TofuOptions.RequiredVersion"/>.</summary>
    public async Task<ToolVersion> EnsureRequiredVersionAsync(CancellationToken cancellationToken)
    {
        var version = await GetVersionAsync(cancellationToken);
        if (options.RequiredVersion is { } required && !VersionConstraint.Parse(required).IsSatisfiedBy(version.Version))
        {
            throw new EngineConfigurationException($"{options.BinaryPath} is version {version.Version}; the stack requires {required}");
        }

        return version;
    }

    /// <inheritdoc />
    public async Task InitAsync(CancellationToken cancellationToken)
    {
        await EnsureRequiredVersionAsync(cancellationToken);
        await RunAsync("init", RunPhase.BeforeMutation, ["init", "-input=false", "-no-color", LockTimeoutArg], StdoutMode.Stream, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<PlanArtifact> PlanAsync(string artifactDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(artifactDirectory);
        var planFile = Path.Combine(artifactDirectory, PlanFileName);
        var result = await RunAsync("plan", RunPhase.BeforeMutation,
            ["plan", "-input=false", "-no-color", LockTimeoutArg, "-detailed-exitcode", "-out=" + planFile],
            StdoutMode.Stream, cancellationToken, successCodes: [0, 2]);
        if (!File.Exists(planFile))
        {
            // A Go panic also exits 2; without the file it was never a plan.
            throw new EngineStepFailedException("plan", RunPhase.BeforeMutation, result, result.TextForClassification(StdoutMode.Stream));
        }

        return new PlanArtifact(artifactDirectory, planFile, result.ExitCode == 2, DependencyLockDigest());
    }

    /// <inheritdoc />
    public async Task<PlanJson> ShowAsync(PlanArtifact artifact, CancellationToken cancellationToken)
    {
        var planFile = artifact.PlanFile ?? throw new EngineConfigurationException("the plan artifact has no plan file");
        var jsonPath = Path.Combine(artifact.Directory, PlanJsonFileName);
        var partial = jsonPath + ".partial";
        try
        {
            // Written aside and moved into place, so a failed show never leaves half a plan JSON.
            await RunAsync("show", RunPhase.BeforeMutation, ["show", "-json", "-no-color", planFile], StdoutMode.File, cancellationToken, stdoutFile: partial);
            File.Move(partial, jsonPath, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        return new PlanJson(jsonPath);
    }

    /// <inheritdoc />
    public async Task<ApplyResult> ApplyAsync(PlanArtifact artifact, CancellationToken cancellationToken)
    {
        var planFile = artifact.PlanFile ?? throw new EngineConfigurationException("the plan artifact has no plan file");
        var result = await RunAsync("apply", RunPhase.Mutation, ["apply", "-input=false", "-no-color", LockTimeoutArg, planFile], StdoutMode.Stream, cancellationToken);
        return new ApplyResult(result, ChangeCounts.FromOutput(result.Stdout));
    }

    /// <inheritdoc />
    public async Task<(PlanArtifact Artifact, PlanJson Json)> ReplanAsync(string artifactDirectory, CancellationToken cancellationToken)
    {
        var artifact = await PlanAsync(artifactDirectory, cancellationToken);
        return (artifact, await ShowAsync(artifact, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<DriftResult> CheckDriftAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("drift-check", RunPhase.BeforeMutation,
            ["plan", "-input=false", "-no-color", LockTimeoutArg, "-detailed-exitcode"], StdoutMode.Stream, cancellationToken, successCodes: [0, 2]);
        return new DriftResult(result.ExitCode == 2, result);
    }

    /// <inheritdoc />
    public async Task<StateVersion> GetStateVersionAsync(CancellationToken cancellationToken)
    {
        // The state holds secrets and can be hundreds of megabytes: read as it arrives for its serial and
        // lineage, never held whole nor streamed to the sink.
        (long? Serial, string? Lineage) header = default;
        JsonException? invalid = null;
        await RunAsync("state-pull", RunPhase.BeforeMutation, ["state", "pull"], StdoutMode.Consume, cancellationToken, consumer: async (stdout, ct) =>
        {
            try
            {
                header = await StateHeader.ReadAsync(stdout, ct);
            }
            catch (JsonException e)
            {
                invalid = e; // reported once the pull has succeeded: a failed pull explains itself first
            }
        });

        return invalid is null
            ? new StateVersion(header.Serial, header.Lineage)
            : throw new EngineConfigurationException($"state pull printed invalid JSON: {invalid.Message}");
    }

    /// <inheritdoc />
    public async Task<JsonElement> GetOutputsAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("output", RunPhase.BeforeMutation, ["output", "-json", "-no-color"], StdoutMode.Capture, cancellationToken);
        return ParseObject(result.Stdout, "output -json");
    }

    /// <summary>"sha256:…" of .terraform.lock.hcl in the working directory, or null when there is none.</summary>
    public string? DependencyLockDigest()
    {
        var path = Path.Combine(options.Process.WorkingDirectory, ".terraform.lock.hcl");
        return File.Exists(path) ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : null;
    }

    // Inputs are root-module variables: TF_VAR_<name> is the documented way to set one from the environment.
    // Complex values are JSON text, which Terraform parses as HCL for list, map and object variables.
    private Dictionary<string, string> ToolEnvironment()
    {
        var environment = new Dictionary<string, string>(AutomationEnvironment, StringComparer.Ordinal);
        foreach (var (name, text) in Inputs.EngineInputs.AsText(options.InputsJson))
        {
            environment["TF_VAR_" + name] = text;
        }

        return environment;
    }

    internal static JsonElement ParseObject(string text, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? doc.RootElement.Clone()
                : throw new EngineConfigurationException($"{what} printed {doc.RootElement.ValueKind}, not a JSON object");
        }
        catch (JsonException e)
        {
            throw new EngineConfigurationException($"{what} printed invalid JSON: {e.Message}");
        }
    }

    private async Task<ProcessResult> RunAsync(string operation, RunPhase phase, IReadOnlyList<string> arguments, StdoutMode mode,
        CancellationToken cancellationToken, int[]? successCodes = null, string? stdoutFile = null, Func<Stream, CancellationToken, Task>? consumer = null)
    {
        var spec = options.Process.Spec(options.BinaryPath, arguments, ToolEnvironment()) with { StdoutMode = mode, StdoutFile = stdoutFile, StdoutConsumer = consumer };
        var result = await runner.RunAsync(spec, sink, cancellationToken);
        if (result.Termination != Termination.Exited || !(successCodes ?? [0]).Contains(result.ExitCode ?? -1))
        {
            throw new EngineStepFailedException(operation, phase, result, result.TextForClassification(mode));
        }

        return result;
    }
}
