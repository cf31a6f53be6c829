using System.Globalization;
using System.Text.RegularExpressions;

namespace Airlock.Application.Deployments;

/// <summary>Which version, colour and traffic share one command or check of a deployment is about.</summary>
/// <remarks><paramref name="ArtifactDirectory"/> overrides the release's artifact (a rollback redeploys the previous release's).</remarks>
internal sealed record DeploymentFrame(string Version, string? Color, int? Percent, string? ArtifactDirectory = null);

/// <summary>
/// What every command and check of one deployment shares: the fixed facts (app, environment,
/// region, versions, artifact, infra outputs), the caller's placeholders, and the outputs file
/// commands append <c>name=value</c> lines to. Owns a temporary directory for that file.
/// </summary>
internal sealed partial class DeploymentScope : IDisposable
{
    private readonly string _directory;
    private readonly Dictionary<string, string> _fixedPlaceholders;
    private readonly Dictionary<string, string> _fixedEnvironment;
    private readonly IReadOnlyDictionary<string, string> _callerPlaceholders;
    private readonly Dictionary<string, string> _outputs = new(StringComparer.Ordinal);

    public DeploymentScope(string app, string environment, string? region, string? previousVersion, string artifactDirectory, string? previousArtifactDirectory, string infraOutputsJson, IReadOnlyDictionary<string, string> callerPlaceholders)
    {
        // Its own directory per deployment: regions of a wave deploy in parallel and must not share an outputs file.
        _directory = Path.Combine(Path.GetTempPath(), "airlock-deploy-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_directory);
        OutputsFile = Path.Combine(_directory, "outputs");
        File.WriteAllText(OutputsFile, "");

        _callerPlaceholders = callerPlaceholders;
        _fixedPlaceholders = new(StringComparer.Ordinal) { ["app"] = app, ["env"] = environment };
        if (region is not null)
        {
            _fixedPlaceholders["region"] = region;
        }

        if (previousVersion is not null)
        {
            _fixedPlaceholders["previous_version"] = previousVersion;
        }

        _fixedEnvironment = new(StringComparer.Ordinal)
        {
            ["AIRLOCK_APP"] = app,
            ["AIRLOCK_ENVIRONMENT"] = environment,
            ["AIRLOCK_REGION"] = region ?? "",
            ["AIRLOCK_PREVIOUS_VERSION"] = previousVersion ?? "",
            ["AIRLOCK_ARTIFACT_DIR"] = artifactDirectory,
            ["AIRLOCK_PREVIOUS_ARTIFACT_DIR"] = previousArtifactDirectory ?? "",
            ["AIRLOCK_INFRA_OUTPUTS"] = infraOutputsJson,
            ["AIRLOCK_OUTPUTS"] = OutputsFile,
        };
    }

    /// <summary>The file commands append <c>name=value</c> lines to.</summary>
    public string OutputsFile { get; }

    /// <summary>Outputs read so far (last write of a name wins).</summary>
    public IReadOnlyDictionary<string, string> Outputs => _outputs;

    /// <summary>Placeholders for one frame: the caller's, overridden by outputs, overridden by the built-ins.</summary>
    public IReadOnlyDictionary<string, string> Placeholders(DeploymentFrame frame)
    {
        var values = new Dictionary<string, string>(_callerPlaceholders, StringComparer.Ordinal);
        foreach (var (name, value) in _outputs)
        {
            values[name] = value;
        }

        foreach (var (name, value) in _fixedPlaceholders)
        {
            values[name] = value;
        }

        values["version"] = frame.Version;
        if (frame.Color is not null)
        {
            values["color"] = frame.Color;
        }

        if (frame.Percent is { } percent)
        {
            values["percent"] = percent.ToString(CultureInfo.InvariantCulture);
        }

        return values;
    }

    /// <summary>The AIRLOCK_* variables for one frame.</summary>
    public IReadOnlyDictionary<string, string> Environment(DeploymentFrame frame) => new Dictionary<string, string>(_fixedEnvironment, StringComparer.Ordinal)
    {
        ["AIRLOCK_VERSION"] = frame.Version,
        ["AIRLOCK_COLOR"] = frame.Color ?? "",
        ["AIRLOCK_TRAFFIC_PERCENT"] = frame.Percent?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["AIRLOCK_ARTIFACT_DIR"] = frame.ArtifactDirectory ?? _fixedEnvironment["AIRLOCK_ARTIFACT_DIR"],
    };

    /// <summary>Reads the outputs file again; null when every line is well-formed, else one line naming the bad one.</summary>
    public string? ReadOutputs()
    {
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(OutputsFile))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? "" : line[..equals];
            if (!OutputName().IsMatch(name))
            {
                var shown = line.Length > 80 ? line[..80] + "…" : line;
                return $"line {lineNumber.ToString(CultureInfo.InvariantCulture)} of $AIRLOCK_OUTPUTS is not name=value with a name of letters, digits and _: '{shown}'";
            }

            _outputs[name] = line[(equals + 1)..];
        }

        return null;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A background process started by a deploy script may still hold it; the OS temp cleaner gets it later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex OutputName();
}
