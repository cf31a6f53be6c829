using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Failures;
using Airlock.Domain.Serialization;
using Airlock.Engines.Processes;
using Airlock.Engines.Tofu;

namespace Airlock.Engines.Pulumi;

/// <summary>Settings of the Pulumi adapter; the lead maps them from airlock.yaml.</summary>
public sealed record PulumiOptions
{
    /// <summary>"pulumi" or an absolute path.</summary>
    public required string BinaryPath { get; init; }

    /// <summary>Fully qualified stack name, e.g. "org/project/prod".</summary>
    public required string Stack { get; init; }

    /// <summary>Version constraint, e.g. "&gt;= 3.100"; null = any.</summary>
    public string? RequiredVersion { get; init; }

    /// <summary>Upstream inputs (a JSON object), given to preview and up as stack configuration.</summary>
    public string InputsJson { get; init; } = "{}";

    /// <summary>Inputs whose values are sensitive: set as encrypted secrets (config set --secret), never as plain config.</summary>
    public IReadOnlyList<string> SecretInputNames { get; init; } = [];

    /// <summary>Directory, environment, identity, timeout, grace period.</summary>
    public required EngineProcessOptions Process { get; init; }
}

/// <summary>
/// Drives the real Pulumi CLI non-interactively: preview with a saved update plan (--save-plan)
/// and an engine event log, up --plan for saved-plan mode, stack output --json, stack history
/// for the update version and stack export for a digest of the deployment. Upstream inputs become
/// stack configuration in a copy of the stack's config file (--config-file), so the working tree
/// stays as committed: plain values with --config name=value, sensitive ones with config set --secret.
/// </summary>
public sealed class PulumiEngine(PulumiOptions options, IProcessRunner runner, IOutputSink sink) : IEngine
{
    /// <summary>Saved update plan inside the artifact directory.</summary>
    public const string PlanFileName = "plan.pulumi.json";

    /// <summary>Engine events written while previewing.</summary>
    public const string PreviewEventsFileName = "preview.events.jsonl";

    /// <summary>Terraform-format plan JSON written by <see cref="ShowAsync"/>.</summary>
    public const string PlanJsonFileName = "plan.json";

    // What `pulumi stack output --json` prints for a secret output unless --show-secrets is given.
    private const string SecretMask = "[secret]";

    private static readonly Dictionary<string, string> AutomationEnvironment = new()
    {
        // Update plans (--save-plan / --plan) are behind Pulumi's experimental switch.
        ["PULUMI_EXPERIMENTAL"] = "true",
        ["PULUMI_SKIP_UPDATE_CHECK"] = "true",
    };

    /// <inheritdoc />
    public string Kind => "pulumi";

    /// <inheritdoc />
    public async Task<ToolVersion> GetVersionAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("version", RunPhase.BeforeMutation, ["version"], StdoutMode.Capture, cancellationToken);
        var version = result.Stdout.Trim();
        return version.Length == 0
            ? throw new EngineConfigurationException($"{options.BinaryPath} version printed nothing")
            : new ToolVersion(Kind, version.TrimStart('v'), new Dictionary<string, string>());
    }

    /// <inheritdoc />
    public async Task InitAsync(CancellationToken cancellationToken)
    {
        var version = await GetVersionAsync(cancellationToken);
        if (options.RequiredVersion is { } required && !VersionConstraint.Parse(required).IsSatisfiedBy(version.Version))
        {
            throw new EngineConfigurationException($"{options.BinaryPath} is version {version.Version}; the stack requires {required}");
        }

        await RunAsync("init", RunPhase.BeforeMutation, ["stack", "select", "--stack", options.Stack, "--non-interactive"], StdoutMode.Stream, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<PlanArtifact> PlanAsync(string artifactDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(artifactDirectory);
        var planFile = Path.Combine(artifactDirectory, PlanFileName);
        var events = Path.Combine(artifactDirectory, PreviewEventsFileName);
        await WithInputsAsync(configArguments => RunAsync("plan", RunPhase.BeforeMutation,
            ["preview", "--stack", options.Stack, "--non-interactive", "--save-plan", planFile, "--event-log", events, .. configArguments],
            StdoutMode.Stream, cancellationToken, events), cancellationToken);
        if (!File.Exists(planFile))
        {
            throw new EngineConfigurationException($"pulumi preview wrote no update plan at {planFile}");
        }

        return new PlanArtifact(artifactDirectory, planFile, PulumiEventLog.Read(events).HasChanges, null, events);
    }

    /// <inheritdoc />
    public Task<PlanJson> ShowAsync(PlanArtifact artifact, CancellationToken cancellationToken)
    {
        var events = artifact.EventLogFile ?? throw new EngineConfigurationException("the Pulumi plan artifact has no event log");
        var path = Path.Combine(artifact.Directory, PlanJsonFileName);
        File.WriteAllBytes(path, CanonicalJson.ToUtf8Bytes(PulumiEventLog.Read(events).ToTerraformPlanJson()));
        return Task.FromResult(new PlanJson(path));
    }

    /// <inheritdoc />
    public async Task<ApplyResult> ApplyAsync(PlanArtifact artifact, CancellationToken cancellationToken)
    {
        var planFile = artifact.PlanFile ?? throw new EngineConfigurationException("the Pulumi plan artifact has no update plan");
        var events = Path.Combine(artifact.Directory, "up.events.jsonl");
        var result = await WithInputsAsync(configArguments => RunAsync("apply", RunPhase.Mutation,
            ["up", "--stack", options.Stack, "--non-interactive", "--yes", "--skip-preview", "--plan", planFile, "--event-log", events, .. configArguments],
            StdoutMode.Stream, cancellationToken, events), cancellationToken);
        return new ApplyResult(result, PulumiEventLog.Read(events).Counts);
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
        var directory = Directory.CreateTempSubdirectory("airlock-drift-");
        try
        {
            var events = Path.Combine(directory.FullName, "drift.events.jsonl");
            var result = await WithInputsAsync(configArguments => RunAsync("drift-check", RunPhase.BeforeMutation,
                ["preview", "--stack", options.Stack, "--non-interactive", "--refresh", "--event-log", events, .. configArguments],
                StdoutMode.Stream, cancellationToken, events), cancellationToken);
            return new DriftResult(PulumiEventLog.Read(events).HasChanges, result);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <inheritdoc />
    public async Task<StateVersion> GetStateVersionAsync(CancellationToken cancellationToken)
    {
        var history = await RunAsync("state-version", RunPhase.BeforeMutation,
            ["stack", "history", "--stack", options.Stack, "--json", "--page-size", "1"], StdoutMode.Capture, cancellationToken);
        long? version = null;
        try
        {
            using var doc = JsonDocument.Parse(history.Stdout);
            if (doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0)
            {
                version = doc.RootElement[0].GetProperty("version").GetInt64();
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new EngineConfigurationException($"pulumi stack history --json printed no update list: {e.Message}");
        }

        // The export holds secrets (encrypted) and every resource's state: hashed as it arrives, never
        // held whole nor streamed to the sink.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await RunAsync("state-export", RunPhase.BeforeMutation, ["stack", "export", "--stack", options.Stack], StdoutMode.Consume, cancellationToken, consumer: async (stdout, ct) =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stdout.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        });
        return new StateVersion(version, null, "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>
    /// The outputs as {name: {value, sensitive}} (the shape of <c>tofu output -json</c>): Pulumi prints secret
    /// outputs as "[secret]" unless asked to show them, so a first call learns which are secret and a second,
    /// captured and never streamed, reads their values.
    /// </summary>
    public async Task<JsonElement> GetOutputsAsync(CancellationToken cancellationToken)
    {
        var masked = await RunAsync("output", RunPhase.BeforeMutation, ["stack", "output", "--stack", options.Stack, "--json"], StdoutMode.Capture, cancellationToken);
        var maskedOutputs = TofuEngine.ParseObject(masked.Stdout, "pulumi stack output --json");
        var secretNames = maskedOutputs.EnumerateObject()
            .Where(p => p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() == SecretMask)
            .Select(p => p.Name)
            .ToHashSet(StringComparer.Ordinal);
        var values = maskedOutputs;
        if (secretNames.Count > 0)
        {
            var shown = await RunAsync("output", RunPhase.BeforeMutation, ["stack", "output", "--stack", options.Stack, "--json", "--show-secrets"], StdoutMode.Capture, cancellationToken);
            values = TofuEngine.ParseObject(shown.Stdout, "pulumi stack output --json --show-secrets");
        }

        var outputs = new JsonObject();
        foreach (var output in values.EnumerateObject())
        {
            outputs[output.Name] = new JsonObject
            {
                ["value"] = JsonNode.Parse(output.Value.GetRawText()),
                ["sensitive"] = secretNames.Contains(output.Name),
            };
        }

        return TofuEngine.ParseObject(outputs.ToJsonString(), "pulumi outputs");
    }

    // Runs a preview or up with the inputs as configuration in a private copy of the stack's config file.
    private async Task<ProcessResult> WithInputsAsync(Func<IReadOnlyList<string>, Task<ProcessResult>> run, CancellationToken cancellationToken)
    {
        var inputs = Inputs.EngineInputs.AsText(options.InputsJson);
        if (inputs.Count == 0)
        {
            return await run([]);
        }

        var directory = Directory.CreateTempSubdirectory("airlock-pulumi-config-");
        try
        {
            var stackName = options.Stack[(options.Stack.LastIndexOf('/') + 1)..];
            var committed = Path.Combine(options.Process.WorkingDirectory, $"Pulumi.{stackName}.yaml");
            var configFile = Path.Combine(directory.FullName, $"Pulumi.{stackName}.yaml");
            if (File.Exists(committed))
            {
                File.Copy(committed, configFile);
            }

            var arguments = new List<string> { "--config-file", configFile };
            foreach (var (name, text) in inputs)
            {
                if (options.SecretInputNames.Contains(name, StringComparer.Ordinal))
                {
                    // Encrypted by the stack's secrets provider; the value is redacted from any output.
                    await RunAsync("config", RunPhase.BeforeMutation,
                        ["config", "set", "--stack", options.Stack, "--config-file", configFile, "--secret", "--non-interactive", "--", name, text],
                        StdoutMode.Capture, cancellationToken);
                }
                else
                {
                    arguments.AddRange(["--config", $"{name}={text}"]);
                }
            }

            return await run(arguments);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private async Task<ProcessResult> RunAsync(string operation, RunPhase phase, IReadOnlyList<string> arguments, StdoutMode mode,
        CancellationToken cancellationToken, string? eventLog = null, Func<Stream, CancellationToken, Task>? consumer = null)
    {
        var spec = options.Process.Spec(options.BinaryPath, arguments, AutomationEnvironment) with { StdoutMode = mode, StdoutConsumer = consumer };
        var result = await runner.RunAsync(spec, sink, cancellationToken);
        if (result.Termination != Termination.Exited || result.ExitCode != 0)
        {
            // Pulumi reports resource errors as diagnostics in the event log as well as on the console.
            var log = eventLog is null ? null : PulumiEventLog.Read(eventLog);
            var text = new Redactor(spec.AllSecrets()).Redact(log?.Diagnostics ?? string.Empty) + "\n" + result.TextForClassification(mode);
            throw new EngineStepFailedException(operation, phase, result, text, phase == RunPhase.Mutation ? log?.Counts : null);
        }

        return result;
    }
}
