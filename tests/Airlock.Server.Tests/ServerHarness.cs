using System.Net.Http.Headers;
using System.Security.Cryptography;
using Airlock.Application.Plans;
using Airlock.Application.Tokens;
using Airlock.Engines.Processes;
using Airlock.Server.Hosting;
using Airlock.Store.Tests;
using Airlock.Testing;

namespace Airlock.Server.Tests;

/// <summary>
/// A real <c>airlock serve</c> replica in this process: Kestrel on a free loopback port over a copy of
/// examples/getting-started in a temp git repository (command engine, real files under target/), with the
/// workspace's SQLite store or a fresh database on the real PostgreSQL test server. Requests go over real HTTP.
/// </summary>
public sealed class ServerHarness : IAsyncDisposable
{
    private readonly TempDir _dir = new("airlock-server");
    private readonly Dictionary<string, string?> _environment = new();
    private readonly List<HttpClient> _clients = [];

    private ServerHarness()
    {
        Root = _dir.Path;
        DirectoryCopy.Copy(Path.Combine(RepoPaths.RepoRoot, "examples", "getting-started"), Root);
        Git = new GitHistory(Root);
        Git.Commit("first stack");
    }

    /// <summary>The workspace (a git repository).</summary>
    public string Root { get; }

    /// <summary>Its history.</summary>
    public GitHistory Git { get; }

    /// <summary>The running replica.</summary>
    public AirlockServerHost Host { get; private set; } = null!;

    /// <summary>The server's base address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The base address without the trailing slash, e.g. http://127.0.0.1:41234 (for browser URLs).</summary>
    public string BaseUrl => BaseAddress.ToString().TrimEnd('/');

    /// <summary>
    /// Starts a replica over a fresh workspace; <paramref name="backend"/> is "sqlite" or "postgresql". No apply workers
    /// unless <paramref name="workers"/> asks for them (with claims and locks leased for <paramref name="lease"/>).
    /// </summary>
    public static async Task<ServerHarness> StartAsync(string backend = "sqlite", Action<ServerHarness>? arrange = null, int workers = 0, TimeSpan? lease = null, TimeSpan? metricsReuse = null)
    {
        var harness = new ServerHarness();
        if (backend == "postgresql")
        {
            harness._environment["AIRLOCK_DATABASE_URL"] = await PostgresServer.CreateDatabaseAsync();
            harness._environment["AIRLOCK_PLAN_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        }

        arrange?.Invoke(harness);
        var options = new ServerOptions { WorkspaceDirectory = harness.Root, Urls = ["http://127.0.0.1:0"], Workers = workers, Lease = lease ?? TimeSpan.FromMinutes(2), WorkerPollInterval = TimeSpan.FromMilliseconds(100), MetricsReuse = metricsReuse ?? TimeSpan.Zero };
        harness.Host = await AirlockServerHost.CreateAsync(options, name => harness._environment.TryGetValue(name, out var value) ? value : null, CancellationToken.None);
        await harness.Host.StartAsync(CancellationToken.None);
        harness.BaseAddress = new Uri(harness.Host.Addresses.Single().TrimEnd('/') + "/");
        return harness;
    }

    /// <summary>Sets an environment variable the replica reads (before start, through <c>arrange</c>).</summary>
    public void SetVariable(string name, string? value) => _environment[name] = value;

    /// <summary>Creates a token for <paramref name="actor"/> the way `airlock token create` does; returns the secret.</summary>
    public async Task<string> TokenAsync(string actor, params string[] teams)
    {
        var tokens = new TokenService(Host.Services.Store.Tokens, Host.Services.Time, Host.Services.Evidence);
        return (await tokens.CreateAsync(actor, teams, "test-admin@example.com", null, CancellationToken.None)).Secret;
    }

    /// <summary>A real plan of the site stack (command engine) in <paramref name="environment"/>, requested by <paramref name="requester"/>.</summary>
    public Task<PlanOutcome> PlanAsync(string requester, string environment = "prod") =>
        new PlanService(Host.Services).PlanAsync(new PlanRequest("site", environment, requester), new NullOutputSink(), CancellationToken.None);

    /// <summary>A client that authenticates as <paramref name="actor"/> (a fresh token), or anonymously when null.</summary>
    public async Task<HttpClient> ClientAsync(string? actor = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (actor is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(actor));
        }

        _clients.Add(client);
        return client;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        if (Host is not null)
        {
            await Host.App.StopAsync();
            await Host.DisposeAsync();
        }

        Git.Dispose();
        _dir.Dispose();
    }
}
