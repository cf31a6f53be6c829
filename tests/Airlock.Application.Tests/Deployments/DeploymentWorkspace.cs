using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;

using Airlock.Application.Deployments;
using Airlock.Application.Workspace;
using Airlock.Domain.Config;
using Airlock.Domain.Evidence;
using Airlock.Engines.Processes;
using Airlock.Store;
using Airlock.Store.Sql;
using Airlock.Testing;

namespace Airlock.Application.Tests.Deployments;

/// <summary>
/// A real workspace for deployment tests: airlock.yaml with dev and prod, a real SQLite store,
/// the real process runner and verification runner, shell scripts that start the sample HTTP
/// service in the background (recording every pid), and a dispose that kills every process they started.
/// </summary>
internal sealed class DeploymentWorkspace : IAsyncDisposable
{
    private readonly TempDir _dir = new("airlock-deploy-test");
    private readonly EcdsaCheckpointSigner _signer = EcdsaCheckpointSigner.Generate();
    private SqlAirlockStore? _store;

    private DeploymentWorkspace()
    {
    }

    public string Root => _dir.Path;

    public AirlockServices Services { get; private set; } = null!;

    public ApplicationDeployer Deployer { get; private set; } = null!;

    public EnvironmentConfig Dev => Services.Workspace.Environment("dev");

    public EnvironmentConfig Prod => Services.Workspace.Environment("prod");

    public RecordingObserver Observer { get; } = new();

    /// <summary>Where the test build copies the sample service from (it is built once, as a project reference of this test project).</summary>
    public static string SampleAppDirectory => AppContext.BaseDirectory;

    public static async Task<DeploymentWorkspace> CreateAsync(TimeProvider? time = null)
    {
        var workspace = new DeploymentWorkspace();
        workspace._dir.Write("airlock.yaml", """
            version: 1
            project: deploy-tests
            environments:
              dev: {}
              prod: {}
            """);
        workspace._dir.Write("deploy.sh", DeployScript);
        workspace._dir.Write("bg-deploy.sh", BlueGreenDeployScript);
        workspace._dir.Write("switch.sh", SwitchScript);
        var loaded = AirlockWorkspace.Load(workspace.Root);
        workspace._store = await AirlockStores.OpenWorkspaceAsync(workspace.Root, new StoreOptions(), CancellationToken.None);
        workspace.Services = new AirlockServices(loaded, workspace._store, workspace._signer, time ?? TimeProvider.System);
        workspace.Deployer = new ApplicationDeployer(workspace.Services);
        return workspace;
    }

    /// <summary>The build command: copies the sample service into the artifact directory and counts builds.</summary>
    public static string BuildCommand =>
        $"cp '{SampleAppDirectory}Airlock.SampleApp.dll' '{SampleAppDirectory}Airlock.SampleApp.runtimeconfig.json' \"$AIRLOCK_ARTIFACT_DIR\"/ && echo \"$AIRLOCK_VERSION\" >> builds.log";

    /// <summary>
    /// Replaces the instance on one port (waiting until the old one is gone), starts the version from
    /// the artifact (--unhealthy when the version name contains "broken"), and writes url= to the outputs.
    /// </summary>
    private const string DeployScript = """
        set -e
        port=$1
        if [ -f "app-$port.pid" ]; then
          old=$(cat "app-$port.pid")
          # Only while that pid is still our instance: once it has exited, any process may get its pid.
          if tr '\0' ' ' < "/proc/$old/cmdline" 2>/dev/null | grep -q "Airlock.SampleApp.dll --port $port "; then
            kill "$old" 2>/dev/null || true
            i=0
            while [ $i -lt 200 ] && kill -0 "$old" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
          fi
        fi
        flags=""
        case "$AIRLOCK_VERSION" in *broken*) flags=--unhealthy;; esac
        nohup dotnet "$AIRLOCK_ARTIFACT_DIR/Airlock.SampleApp.dll" --port "$port" --version "$AIRLOCK_VERSION" --color "${AIRLOCK_COLOR:-none}" $flags < /dev/null > "app-$port.log" 2>&1 &
        echo $! > "app-$port.pid"
        echo $! >> pids
        echo "url=http://127.0.0.1:$port" >> "$AIRLOCK_OUTPUTS"
        echo "$AIRLOCK_ENVIRONMENT $AIRLOCK_VERSION ${AIRLOCK_TRAFFIC_PERCENT:-none}" >> deploys.log
        """;

    /// <summary>Blue-green: the colour picks the port ($1 blue, $2 green).</summary>
    private const string BlueGreenDeployScript = """
        set -e
        if [ "$AIRLOCK_COLOR" = blue ]; then port=$1; else port=$2; fi
        sh ./deploy.sh "$port"
        """;

    /// <summary>The "router": a file naming the live colour; url= becomes the live colour's address. $4 = a colour to misroute to a dead port.</summary>
    private const string SwitchScript = """
        set -e
        if [ "$1" = blue ]; then port=$2; else port=$3; fi
        if [ "$1" = "${4:-}" ]; then port=$5; fi
        echo "$1" > router
        echo "$1" >> switches.log
        echo "url=http://127.0.0.1:$port" >> "$AIRLOCK_OUTPUTS"
        """;

    /// <summary>
    /// A health check of /health and one that /version answers the frame's version. A 60 s start period: a .NET
    /// service starting on a loaded 2-core CI machine has taken more than 15 s to listen (it only costs time when it
    /// does); then 15 s of retries for one that answers unhealthy.
    /// </summary>
    public static ImmutableArray<CheckConfig> HealthChecks => Checks(retries: 150, startPeriod: TimeSpan.FromSeconds(60));

    /// <summary>
    /// The same checks for a deployment meant to fail them: a broken version answers 503, which the start period does
    /// not forgive, so it uses only its 15 s of retries. Its rollback (a restarted old version) gets the start period.
    /// </summary>
    public static ImmutableArray<CheckConfig> HealthChecksForAFailingVersion => HealthChecks;

    /// <summary>The checks without a start period, for traffic sent to a port nothing will ever listen on (15 s of retries).</summary>
    public static ImmutableArray<CheckConfig> HealthChecksForADeadPort => Checks(retries: 150, startPeriod: TimeSpan.Zero);

    // /version gets retries and both a 5 s attempt timeout too: with one 2 s attempt, a healthy app answering slowly on
    // a loaded CI machine failed a rollback's checks (a switch back to a live v1 reported as a failed rollback).
    private static ImmutableArray<CheckConfig> Checks(int retries, TimeSpan startPeriod) =>
    [
        new HttpCheck("{url}/health", 200, retries, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), null, startPeriod),
        new HttpCheck("{url}/version", 200, 20, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), "{version}", startPeriod),
    ];

    public static ApplicationConfig App(string deploy, DeploymentStrategy? strategy = null, string? rollback = null, string? smoke = null, ImmutableArray<CheckConfig>? health = null) =>
        new("web", [], null, BuildCommand, null, deploy, smoke, rollback, strategy ?? new DeploymentStrategy(DeploymentStrategyKind.Direct, [], TimeSpan.Zero), health ?? HealthChecks);

    public string ArtifactDirectory => Path.Combine(Root, "artifact");

    public async Task<string> BuildAsync(ApplicationConfig app)
    {
        var built = await Deployer.BuildAsync(app, "release-1", ArtifactDirectory, Observer, CancellationToken.None);
        Assert.True(built.Passed, built.Statement);
        return ArtifactDirectory;
    }

    public DeploymentRequest Request(ApplicationConfig app, string version, string? previous, string? liveColor = null, IReadOnlyDictionary<string, string>? placeholders = null, EnvironmentConfig? environment = null) =>
        new(app, environment ?? Dev, null, version, previous, liveColor, ArtifactDirectory, "{}", placeholders ?? new Dictionary<string, string>());

    public string[] Lines(string file) => File.Exists(_dir.File(file)) ? File.ReadAllLines(_dir.File(file)) : [];

    public string Read(string file) => File.ReadAllText(_dir.File(file));

    public string ReadIfExists(string file) => File.Exists(_dir.File(file)) ? File.ReadAllText(_dir.File(file)) : "(none)";

    /// <summary>
    /// What a failed assertion on a deployment prints: the deployer's statement and the log of the instance on
    /// <paramref name="port"/> (deploy.sh writes app-PORT.log, replaced by each start): a crashed or slow service says why there.
    /// </summary>
    public string Why(int port, DeploymentResult result) => $"{result.Outcome}: {result.Statement}\n{AppLog(port)}";

    /// <summary>The log of the instance deploy.sh last started on <paramref name="port"/>, labelled for a failure message.</summary>
    public string AppLog(int port) => $"app log on {port.ToString(CultureInfo.InvariantCulture)}: {ReadIfExists($"app-{port.ToString(CultureInfo.InvariantCulture)}.log")}";

    /// <summary>Kills the instance the deploy script started on <paramref name="port"/>.</summary>
    public void KillAppOn(int port) => Assert.True(SampleAppProcesses.KillIfOurs(int.Parse(Read($"app-{port}.pid").Trim(), CultureInfo.InvariantCulture), Root), $"no sample app of this test on port {port}");

    public static int FreePort() => LoopbackPorts.Reserve();

    public static async Task<(int Status, string Body)> GetAsync(int port, string path)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
            return ((int)response.StatusCode, (await response.Content.ReadAsStringAsync()).Trim());
        }
        catch (HttpRequestException e)
        {
            return (0, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Every process a script started, even when the test failed half way.
        foreach (var line in Lines("pids"))
        {
            if (int.TryParse(line.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                SampleAppProcesses.KillIfOurs(pid, Root);
            }
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _signer.Dispose();
        _dir.Dispose();
    }
}

/// <summary>Records progress lines and command output of a deployment.</summary>
internal sealed class RecordingObserver : IDeploymentObserver, IOutputSink
{
    private readonly ConcurrentQueue<string> _steps = new();
    private readonly ConcurrentQueue<string> _output = new();

    public IReadOnlyList<string> Steps => [.. _steps];

    public IReadOnlyList<string> OutputLines => [.. _output];

    public IOutputSink Output => this;

    public void Report(string message) => _steps.Enqueue(message);

    public void WriteLine(OutputChannel stream, string line) => _output.Enqueue(line);
}
