using System.Globalization;
using System.Text.Json;

using Airlock.Domain.Failures;
using Airlock.Engines.Json;
using Airlock.Engines.Processes;
using Airlock.Engines.Tofu;

namespace Airlock.Engines.Command;

/// <summary>The stack's <c>command:</c> block plus the run context; the lead maps it from airlock.yaml.</summary>
public sealed record CommandEngineOptions
{
    /// <summary>Executable and arguments that plan (writes plan JSON to AIRLOCK_PLAN_JSON).</summary>
    public required IReadOnlyList<string> Plan { get; init; }

    /// <summary>Executable and arguments that apply AIRLOCK_PLAN_FILE / AIRLOCK_PLAN_JSON.</summary>
    public required IReadOnlyList<string> Apply { get; init; }

    /// <summary>Optional: prints the state serial (an integer).</summary>
    public IReadOnlyList<string>? StateSerial { get; init; }

    /// <summary>Optional: prints the outputs as a JSON object.</summary>
    public IReadOnlyList<string>? Outputs { get; init; }

    /// <summary>AIRLOCK_STACK.</summary>
    public required string Stack { get; init; }

    /// <summary>AIRLOCK_ENVIRONMENT.</summary>
    public required string Environment { get; init; }

    /// <summary>AIRLOCK_RUN_ID.</summary>
    public required string RunId { get; init; }

    /// <summary>AIRLOCK_COMMIT.</summary>
    public required string Commit { get; init; }

    /// <summary>AIRLOCK_INPUTS: JSON object of upstream outputs.</summary>
    public string InputsJson { get; init; } = "{}";

    /// <summary>AIRLOCK_REGION: the target region (empty when the target has none).</summary>
    public string? Region { get; init; }

    /// <summary>Directory (the stack's), environment, identity, timeout, grace period.</summary>
    public required EngineProcessOptions Process { get; init; }
}

/// <summary>
/// Runs any tool through the public command-engine contract (docs/engines.md): plan writes
/// Terraform-format plan JSON to AIRLOCK_PLAN_JSON (and may write an opaque artifact to
/// AIRLOCK_PLAN_FILE), apply receives both, state_serial prints an integer, outputs prints a JSON
/// object; every program gets AIRLOCK_STACK, AIRLOCK_ENVIRONMENT, AIRLOCK_REGION, AIRLOCK_RUN_ID, AIRLOCK_COMMIT and AIRLOCK_INPUTS.
/// </summary>
public sealed class CommandEngine(CommandEngineOptions options, IProcessRunner runner, IOutputSink sink) : IEngine
{
    /// <summary>Plan JSON path inside the artifact directory.</summary>
    public const string PlanJsonFileName = "plan.json";

    /// <summary>Opaque artifact path inside the artifact directory.</summary>
    public const string PlanFileName = "plan.artifact";

    /// <inheritdoc />
    public string Kind => "command";

    /// <inheritdoc />
    public Task<ToolVersion> GetVersionAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ToolVersion(Kind, "contract-1", new Dictionary<string, string>()));

    /// <inheritdoc />
    public Task InitAsync(CancellationToken cancellationToken)
    {
        if (options.Plan.Count == 0 || options.Apply.Count == 0)
        {
            throw new EngineConfigurationException("command engine: plan and apply must name an executable");
        }

        _ = TofuEngine.ParseObject(options.InputsJson, "AIRLOCK_INPUTS");
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<PlanArtifact> PlanAsync(string artifactDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(artifactDirectory);
        var planJson = Path.Combine(artifactDirectory, PlanJsonFileName);
        var planFile = Path.Combine(artifactDirectory, PlanFileName);
        File.Delete(planJson);
        File.Delete(planFile);
        await RunAsync("plan", RunPhase.BeforeMutation, options.Plan, StdoutMode.Stream, cancellationToken, planJson, planFile);
        var hasChanges = await ValidatePlanJsonAsync(planJson, cancellationToken);
        return new PlanArtifact(artifactDirectory, File.Exists(planFile) ? planFile : null, hasChanges, null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The artifact is the one <see cref="PlanAsync"/> returned, which checked the JSON against the contract in its
    /// one streaming pass; reading a plan of hundreds of megabytes a second time would only repeat that.
    /// </remarks>
    public Task<PlanJson> ShowAsync(PlanArtifact artifact, CancellationToken cancellationToken)
    {
        var path = Path.Combine(artifact.Directory, PlanJsonFileName);
        return File.Exists(path)
            ? Task.FromResult(new PlanJson(path))
            : throw new EngineConfigurationException($"command engine: the plan artifact in {artifact.Directory} has no {PlanJsonFileName}");
    }

    /// <inheritdoc />
    public async Task<ApplyResult> ApplyAsync(PlanArtifact artifact, CancellationToken cancellationToken)
    {
        var planJson = Path.Combine(artifact.Directory, PlanJsonFileName);
        var planFile = artifact.PlanFile ?? Path.Combine(artifact.Directory, PlanFileName);
        var result = await RunAsync("apply", RunPhase.Mutation, options.Apply, StdoutMode.Stream, cancellationToken, planJson, planFile);
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
        var directory = Directory.CreateTempSubdirectory("airlock-drift-");
        try
        {
            var planJson = Path.Combine(directory.FullName, PlanJsonFileName);
            var result = await RunAsync("drift-check", RunPhase.BeforeMutation, options.Plan, StdoutMode.Stream, cancellationToken,
                planJson, Path.Combine(directory.FullName, PlanFileName));
            return new DriftResult(await ValidatePlanJsonAsync(planJson, cancellationToken), result);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <inheritdoc />
    public async Task<StateVersion> GetStateVersionAsync(CancellationToken cancellationToken)
    {
        if (options.StateSerial is null)
        {
            return new StateVersion(null, null);
        }

        var result = await RunAsync("state-serial", RunPhase.BeforeMutation, options.StateSerial, StdoutMode.Capture, cancellationToken);
        return long.TryParse(result.Stdout.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var serial)
            ? new StateVersion(serial, null)
            : throw new EngineConfigurationException($"command engine: state_serial printed \"{Truncate(result.Stdout.Trim())}\", not an integer");
    }

    /// <inheritdoc />
    public async Task<JsonElement> GetOutputsAsync(CancellationToken cancellationToken)
    {
        if (options.Outputs is null)
        {
            return TofuEngine.ParseObject("{}", "outputs");
        }

        var result = await RunAsync("output", RunPhase.BeforeMutation, options.Outputs, StdoutMode.Capture, cancellationToken);
        return TofuEngine.ParseObject(result.Stdout, "command engine: outputs");
    }

    /// <summary>
    /// Checks the contract's minimum (format_version, resource_changes array); returns whether any
    /// change is proposed. One streaming pass: a plan JSON may be hundreds of megabytes, and a
    /// document of it cost ~3× its size in memory (146 MB plan: `airlock plan` peaked at 2 GB).
    /// </summary>
    private static async Task<bool> ValidatePlanJsonAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new EngineConfigurationException("command engine: plan exited 0 but wrote no plan JSON to AIRLOCK_PLAN_JSON");
        }

        try
        {
            await using var stream = File.OpenRead(path);
            var shape = new PlanJsonShape();
            if (!await JsonStreamScanner.ScanAsync(stream, shape, cancellationToken))
            {
                throw new EngineConfigurationException("command engine: plan JSON is invalid: the file is empty");
            }

            return shape.Result();
        }
        catch (JsonException e)
        {
            throw new EngineConfigurationException($"command engine: plan JSON is invalid: {e.Message}");
        }
    }

    /// <summary>What <see cref="ValidatePlanJsonAsync"/> looks for, token by token: root keys, and each resource change's actions.</summary>
    private sealed class PlanJsonShape : IJsonTokenVisitor
    {
        private bool _rootSeen;
        private bool _formatVersion;
        private bool _resourceChanges;
        private bool _hasChanges;
        private RootKey _rootKey;
        private bool _awaitingValue;
        private bool _inChange;
        private bool _inActions;

        private enum RootKey
        {
            Other,
            FormatVersion,
            ResourceChanges,
        }

        /// <inheritdoc />
        public bool Take(ref Utf8JsonReader reader)
        {
            var depth = reader.CurrentDepth;
            var token = reader.TokenType;
            if (!_rootSeen)
            {
                _rootSeen = true;
                if (token != JsonTokenType.StartObject)
                {
                    throw new EngineConfigurationException("command engine: plan JSON has no \"format_version\" string");
                }

                return true;
            }

            if (depth == 1)
            {
                if (token == JsonTokenType.PropertyName)
                {
                    _rootKey = reader.ValueTextEquals("format_version"u8) ? RootKey.FormatVersion
                        : reader.ValueTextEquals("resource_changes"u8) ? RootKey.ResourceChanges
                        : RootKey.Other;
                    _awaitingValue = true;
                }
                else if (_awaitingValue)
                {
                    // The value's first token (not the end token of an array or object value).
                    _awaitingValue = false;
                    _formatVersion |= _rootKey == RootKey.FormatVersion && token == JsonTokenType.String;
                    _resourceChanges |= _rootKey == RootKey.ResourceChanges && token == JsonTokenType.StartArray;
                }

                return true;
            }

            if (_rootKey != RootKey.ResourceChanges || _hasChanges)
            {
                return true;
            }

            // resource_changes[i] is at depth 2, its keys at 3, change's keys at 4, the actions at 5.
            if (token == JsonTokenType.PropertyName && depth == 3)
            {
                _inChange = reader.ValueTextEquals("change"u8);
            }
            else if (token == JsonTokenType.PropertyName && depth == 4)
            {
                _inActions = _inChange && reader.ValueTextEquals("actions"u8);
            }
            else if (token == JsonTokenType.String && depth == 5 && _inChange && _inActions)
            {
                _hasChanges = !(reader.ValueTextEquals("no-op"u8) || reader.ValueTextEquals("read"u8));
            }

            return true; // read to the end: the whole file must be valid JSON
        }

        public bool Result()
        {
            if (!_formatVersion)
            {
                throw new EngineConfigurationException("command engine: plan JSON has no \"format_version\" string");
            }

            if (!_resourceChanges)
            {
                throw new EngineConfigurationException("command engine: plan JSON has no \"resource_changes\" array");
            }

            return _hasChanges;
        }
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private async Task<ProcessResult> RunAsync(string operation, RunPhase phase, IReadOnlyList<string> commandLine, StdoutMode mode,
        CancellationToken cancellationToken, string? planJson = null, string? planFile = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AIRLOCK_STACK"] = options.Stack,
            ["AIRLOCK_ENVIRONMENT"] = options.Environment,
            ["AIRLOCK_REGION"] = options.Region ?? string.Empty,
            ["AIRLOCK_RUN_ID"] = options.RunId,
            ["AIRLOCK_COMMIT"] = options.Commit,
            ["AIRLOCK_INPUTS"] = options.InputsJson,
        };
        if (planJson is not null)
        {
            environment["AIRLOCK_PLAN_JSON"] = planJson;
        }

        if (planFile is not null)
        {
            environment["AIRLOCK_PLAN_FILE"] = planFile;
        }

        var executable = Path.IsPathRooted(commandLine[0]) || !commandLine[0].Contains('/', StringComparison.Ordinal)
            ? commandLine[0]
            : Path.GetFullPath(Path.Combine(options.Process.WorkingDirectory, commandLine[0]));
        var spec = options.Process.Spec(executable, [.. commandLine.Skip(1)], environment) with { StdoutMode = mode };
        var result = await runner.RunAsync(spec, sink, cancellationToken);
        if (result.Termination != Termination.Exited || result.ExitCode != 0)
        {
            throw new EngineStepFailedException(operation, phase, result, result.TextForClassification(mode));
        }

        return result;
    }
}
