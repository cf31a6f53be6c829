using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Engines;
using Airlock.Application.Workspace;
using Airlock.Domain.Config;
using Airlock.Domain.Failures;
using Airlock.Domain.Serialization;
using Airlock.Engines;
using Airlock.Engines.Processes;

namespace Airlock.Application.Plans;

/// <summary>
/// A stack's inputs, read from its upstream stacks' current outputs.
/// </summary>
/// <param name="Json">The inputs object {input_name: value}, compact; "{}" when the stack has none.</param>
/// <param name="Digest">CanonicalJson digest of the inputs object: plans record it, applies compare it.</param>
/// <param name="SecretValues">The text of every sensitive input, for redaction: never print or store these.</param>
/// <param name="IsEmpty">True when the stack declares no inputs.</param>
public sealed record ResolvedInputs(string Json, string Digest, IReadOnlyList<string> SecretValues, bool IsEmpty)
{
    /// <summary>Names of the inputs whose upstream output is sensitive.</summary>
    public IReadOnlyList<string> SensitiveNames { get; init; } = [];

    /// <summary>Each input's source, "stack.output", by input name.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; init; } = new Dictionary<string, string>();

    /// <summary>Each input value's digest by input name, so a changed upstream output can be named without showing it.</summary>
    public IReadOnlyDictionary<string, string> Digests { get; init; } = new Dictionary<string, string>();

    /// <summary>The inputs of a stack that declares none.</summary>
    public static ResolvedInputs None { get; } = new("{}", CanonicalJson.Sha256Digest(new JsonObject()), [], true);
}

/// <summary>A stack's outputs as name → value, plus which of them are sensitive.</summary>
/// <param name="Values">Flat object {output_name: value}.</param>
/// <param name="Sensitive">Names of sensitive outputs.</param>
public sealed record NormalisedOutputs(JsonElement Values, IReadOnlySet<string> Sensitive);

/// <summary>Turns each engine's output document into one flat shape.</summary>
public static class OutputNormaliser
{
    /// <summary>
    /// OpenTofu/Terraform <c>output -json</c> (and the Pulumi adapter, which reports the same shape) give
    /// {name: {value, type, sensitive}}; the command engine's outputs program prints a flat object, whose
    /// values are taken as they are (none counts as sensitive).
    /// </summary>
    /// <exception cref="EngineConfigurationException">The document does not have its engine's shape.</exception>
    public static NormalisedOutputs Normalise(string engineKind, JsonElement outputs)
    {
        if (outputs.ValueKind != JsonValueKind.Object)
        {
            throw new EngineConfigurationException($"{engineKind} outputs are {outputs.ValueKind}, not a JSON object");
        }

        if (engineKind == "command")
        {
            return new NormalisedOutputs(outputs.Clone(), new HashSet<string>(StringComparer.Ordinal));
        }

        var values = new JsonObject();
        var sensitive = new HashSet<string>(StringComparer.Ordinal);
        foreach (var output in outputs.EnumerateObject())
        {
            if (output.Value.ValueKind != JsonValueKind.Object || !output.Value.TryGetProperty("value", out var value))
            {
                throw new EngineConfigurationException($"{engineKind} output '{output.Name}' has no \"value\" (expected {{\"value\": …, \"sensitive\": …}})");
            }

            values[output.Name] = JsonNode.Parse(value.GetRawText());
            if (output.Value.TryGetProperty("sensitive", out var flag) && flag.ValueKind == JsonValueKind.True)
            {
                sensitive.Add(output.Name);
            }
        }

        using var document = JsonDocument.Parse(values.ToJsonString());
        return new NormalisedOutputs(document.RootElement.Clone(), sensitive);
    }
}

/// <summary>
/// Output passing between stacks: reads each upstream stack's outputs in the same environment and
/// region (its own engine and identity) and builds the inputs object the downstream engine receives.
/// </summary>
public sealed class StackInputs(AirlockServices services)
{
    /// <summary>
    /// The inputs of <paramref name="stack"/> in (<paramref name="environment"/>, <paramref name="region"/>): each
    /// upstream stack's outputs are read once. A missing output is a <see cref="RefusedException"/> saying to apply
    /// the upstream stack first; an upstream engine failure is an <see cref="EngineFailedException"/>.
    /// </summary>
    public async Task<ResolvedInputs> ResolveAsync(StackConfig stack, EnvironmentConfig environment, string? region, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(environment);
        if (stack.Inputs.IsEmpty)
        {
            return ResolvedInputs.None;
        }

        var upstreamOutputs = new Dictionary<string, NormalisedOutputs>(StringComparer.Ordinal);
        var inputs = new JsonObject();
        var sensitive = new List<string>();
        var secrets = new List<string>();
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in stack.Inputs)
        {
            if (!upstreamOutputs.TryGetValue(input.FromStack, out var outputs))
            {
                var upstream = services.Workspace.Stack(input.FromStack);
                if (!upstream.IsEnabledIn(environment.Name))
                {
                    throw new RefusedException($"stack {stack.Name} needs {input.FromStack}.{input.Output}, but {input.FromStack} is not enabled in {environment.Name}");
                }

                outputs = await OutputsCoreAsync(upstream, environment, UpstreamRegion(upstream, environment, region), cancellationToken);
                upstreamOutputs[input.FromStack] = outputs;
            }

            if (!outputs.Values.TryGetProperty(input.Output, out var value))
            {
                throw new RefusedException($"stack {stack.Name} needs {input.FromStack}.{input.Output}, but {input.FromStack} has no output '{input.Output}' in {Where(environment, region)}: apply {input.FromStack} first");
            }

            inputs[input.Name] = JsonNode.Parse(value.GetRawText());
            sources[input.Name] = $"{input.FromStack}.{input.Output}";
            digests[input.Name] = CanonicalJson.Sha256Digest(value);
            if (outputs.Sensitive.Contains(input.Output))
            {
                sensitive.Add(input.Name);
                secrets.Add(Airlock.Engines.Inputs.EngineInputs.Text(value));
            }
        }

        return new ResolvedInputs(inputs.ToJsonString(), CanonicalJson.Sha256Digest(inputs), secrets, false)
        {
            SensitiveNames = sensitive,
            Sources = sources,
            Digests = digests,
        };
    }

    /// <summary>
    /// The current outputs of <paramref name="stack"/> in (<paramref name="environment"/>, <paramref name="region"/>)
    /// as a flat object {name: value}. Sensitive values are included: callers must not print them.
    /// </summary>
    public async Task<JsonElement> OutputsAsync(StackConfig stack, EnvironmentConfig environment, string? region, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(environment);
        return (await OutputsCoreAsync(stack, environment, region, cancellationToken)).Values;
    }

    /// <summary>The input names of <paramref name="plannedDigests"/> whose value differs in <paramref name="current"/> (or appeared or vanished).</summary>
    public static IReadOnlyList<string> Changed(IReadOnlyDictionary<string, string>? plannedDigests, ResolvedInputs current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var planned = plannedDigests ?? new Dictionary<string, string>();
        return [.. planned.Keys.Union(current.Digests.Keys, StringComparer.Ordinal)
            .Where(name => !planned.TryGetValue(name, out var before) || !current.Digests.TryGetValue(name, out var now) || before != now)
            .Order(StringComparer.Ordinal)];
    }

    // Within a waved environment every stack runs per region, so the upstream is read in the same region;
    // otherwise each stack has its own single region.
    private static string? UpstreamRegion(StackConfig upstream, EnvironmentConfig environment, string? region) =>
        environment.Waves.IsEmpty ? AirlockWorkspace.Regions(upstream, environment)[0] : region;

    private static string Where(EnvironmentConfig environment, string? region) =>
        region is null ? environment.Name : $"{environment.Name} ({region})";

    private async Task<NormalisedOutputs> OutputsCoreAsync(StackConfig stack, EnvironmentConfig environment, string? region, CancellationToken cancellationToken)
    {
        var source = await services.Git.SnapshotAsync(cancellationToken);
        var identity = services.Engines.ResolveIdentity(stack, environment);
        var engine = services.Engines.Create(new EngineTarget(stack, environment, AirlockServices.NewId("outputs"), source.Commit, Identity: identity, Region: region), NullOutputSink.Instance);
        try
        {
            await engine.InitAsync(cancellationToken);
            return OutputNormaliser.Normalise(engine.Kind, await engine.GetOutputsAsync(cancellationToken));
        }
        catch (EngineStepFailedException e)
        {
            throw new EngineFailedException($"reading the outputs of {stack.Name}", FailureClassifier.Classify(e.ToObservation()));
        }
        catch (EngineConfigurationException e)
        {
            throw new UserInputException($"outputs of {stack.Name}: {e.Message}");
        }
    }
}
