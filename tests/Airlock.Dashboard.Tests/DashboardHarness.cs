using Airlock.Application.Plans;
using Airlock.Application.Tokens;
using Airlock.Engines.Processes;
using Airlock.Server.Hosting;
using Airlock.Testing;

namespace Airlock.Dashboard.Tests;

/// <summary>
/// A real <c>airlock serve</c> replica (Kestrel on a free loopback port) over a copy of examples/getting-started in a
/// temp git repository, with its SQLite store; the browser talks to it over real HTTP. (Same idea as the server
/// tests' ServerHarness.)
/// </summary>
public sealed class DashboardHarness : IAsyncDisposable
{
    private readonly TempDir _dir = new("airlock-dashboard");

    private DashboardHarness()
    {
        Root = _dir.Path;
        DirectoryCopy.Copy(Path.Combine(RepoPaths.RepoRoot, "examples", "getting-started"), Root);
        Git = new GitHistory(Root);
        Git.Commit("first stack");
    }

    /// <summary>The workspace.</summary>
    public string Root { get; }

    /// <summary>Its history.</summary>
    public GitHistory Git { get; }

    /// <summary>The running replica.</summary>
    public AirlockServerHost Host { get; private set; } = null!;

    /// <summary>e.g. http://127.0.0.1:41234 (no trailing slash).</summary>
    public string BaseUrl { get; private set; } = null!;

    /// <summary>Starts a replica over a fresh workspace.</summary>
    public static async Task<DashboardHarness> StartAsync()
    {
        var harness = new DashboardHarness();
        var options = new ServerOptions { WorkspaceDirectory = harness.Root, Urls = ["http://127.0.0.1:0"] };
        harness.Host = await AirlockServerHost.CreateAsync(options, _ => null, CancellationToken.None);
        await harness.Host.StartAsync(CancellationToken.None);
        harness.BaseUrl = harness.Host.Addresses.Single().TrimEnd('/');
        return harness;
    }

    /// <summary>A token for <paramref name="actor"/>, made the way `airlock token create` makes one.</summary>
    public async Task<string> TokenAsync(string actor, params string[] teams) =>
        (await new TokenService(Host.Services.Store.Tokens, Host.Services.Time).CreateAsync(actor, teams, "test-admin@example.com", null, CancellationToken.None)).Secret;

    /// <summary>A real plan of the site stack in prod (command engine), requested by <paramref name="requester"/>.</summary>
    public Task<PlanOutcome> PlanAsync(string requester, string environment = "prod") =>
        new PlanService(Host.Services).PlanAsync(new PlanRequest("site", environment, requester), new NullOutputSink(), CancellationToken.None);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.App.StopAsync();
            await Host.DisposeAsync();
        }

        Git.Dispose();
        _dir.Dispose();
    }
}
