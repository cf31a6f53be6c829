using Airlock.Application.Workspace;
using Airlock.Domain.Config;
using Airlock.Engines;
using Airlock.Engines.Command;
using Airlock.Engines.Processes;
using Airlock.Engines.Pulumi;
using Airlock.Engines.Tofu;

namespace Airlock.Application.Engines;

/// <summary>Which run an engine instance works for: target, commit and upstream inputs.</summary>
/// <param name="Stack">The stack.</param>
/// <param name="Environment">The environment.</param>
/// <param name="RunId">The run (or plan) id, passed to command-engine programs.</param>
/// <param name="Commit">The commit being planned or applied.</param>
/// <param name="InputsJson">Upstream outputs as a JSON object.</param>
/// <param name="Identity">The resolved execution identity, injected as credential variables (redacted), or null.</param>
/// <param name="Region">The target region (AIRLOCK_REGION for every engine), or null when the target has none.</param>
/// <param name="SensitiveInputNames">Inputs whose values are sensitive: redacted from output, set as secrets where the tool has them.</param>
public sealed record EngineTarget(
    StackConfig Stack,
    EnvironmentConfig Environment,
    string RunId,
    string Commit,
    string InputsJson = "{}",
    Identity.ResolvedIdentity? Identity = null,
    string? Region = null,
    IReadOnlyList<string>? SensitiveInputNames = null);

/// <summary>Maps a stack's config to its engine adapter (OpenTofu/Terraform, Pulumi or the command engine).</summary>
public sealed class EngineFactory(AirlockWorkspace workspace, IProcessRunner runner)
{
    /// <summary>The stack's working directory.</summary>
    public string WorkingDirectory(StackConfig stack) => Path.GetFullPath(Path.Combine(workspace.Root, stack.Path));

    /// <summary>The identity profile the stack runs with in <paramref name="environment"/>: the stack's, else the environment's.</summary>
    public static string? IdentityProfile(StackConfig stack, EnvironmentConfig environment) =>
        stack.IdentityFor(environment.Name) ?? environment.Identity;

    /// <summary>Resolves the stack's identity on this runner (null when none is configured).</summary>
    public Identity.ResolvedIdentity? ResolveIdentity(StackConfig stack, EnvironmentConfig environment) =>
        Identity.IdentityProfiles.Resolve(IdentityProfile(stack, environment), workspace.StateDirectory, System.Environment.GetEnvironmentVariable);

    /// <summary>An engine for <paramref name="target"/>, streaming redacted tool output to <paramref name="sink"/>.</summary>
    public IEngine Create(EngineTarget target, IOutputSink sink)
    {
        ArgumentNullException.ThrowIfNull(target);
        var config = workspace.Config;
        var kind = config.EffectiveEngine(target.Stack);
        var directory = WorkingDirectory(target.Stack);
        if (!Directory.Exists(directory))
        {
            throw new UserInputException($"stack '{target.Stack.Name}': its path {target.Stack.Path} does not exist in {workspace.Root}");
        }

        var sensitive = target.SensitiveInputNames ?? [];
        var process = new EngineProcessOptions
        {
            WorkingDirectory = directory,
            // Every engine's processes learn the target region; multi-region tofu/pulumi code selects its state by it.
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["AIRLOCK_REGION"] = target.Region ?? string.Empty },
            CredentialEnvironment = target.Identity?.Variables ?? new Dictionary<string, string>(),
            Secrets = [.. Airlock.Engines.Inputs.EngineInputs.AsText(target.InputsJson).Where(p => sensitive.Contains(p.Key, StringComparer.Ordinal)).Select(p => p.Value)],
            Timeout = target.Environment.Apply.Timeout,
            GracePeriod = target.Environment.Apply.GracefulShutdown,
        };
        config.Defaults.Tools.TryGetValue(kind, out var pin);
        return kind switch
        {
            EngineKind.OpenTofu or EngineKind.Terraform => new TofuEngine(
                new TofuOptions
                {
                    BinaryPath = pin?.Binary ?? (kind == EngineKind.OpenTofu ? "tofu" : "terraform"),
                    Kind = kind == EngineKind.OpenTofu ? "opentofu" : "terraform",
                    InputsJson = target.InputsJson,
                    Process = process,
                },
                runner,
                sink),
            EngineKind.Pulumi => new PulumiEngine(
                new PulumiOptions
                {
                    BinaryPath = pin?.Binary ?? "pulumi",
                    Stack = target.Environment.Name,
                    InputsJson = target.InputsJson,
                    SecretInputNames = sensitive,
                    Process = process,
                },
                runner,
                sink),
            _ => new CommandEngine(
                new CommandEngineOptions
                {
                    Plan = Shell(target.Stack.Command?.Plan),
                    Apply = Shell(target.Stack.Command?.Apply),
                    StateSerial = target.Stack.Command?.StateSerial is { } serial ? Shell(serial) : null,
                    Outputs = target.Stack.Command?.Outputs is { } outputs ? Shell(outputs) : null,
                    Stack = target.Stack.Name,
                    Environment = target.Environment.Name,
                    RunId = target.RunId,
                    Commit = target.Commit,
                    InputsJson = target.InputsJson,
                    Region = target.Region,
                    Process = process,
                },
                runner,
                sink),
        };
    }

    // Command strings in airlock.yaml are shell command lines, run in the stack directory.
    private static string[] Shell(string? commandLine) =>
        string.IsNullOrWhiteSpace(commandLine) ? [] : ["/bin/sh", "-c", commandLine];
}
