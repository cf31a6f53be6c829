using System.Text.Json;
using Airlock.Application;
using Airlock.Application.Tokens;
using Airlock.Dashboard;
using Airlock.Server.Api;
using Airlock.Server.Auth;
using Airlock.Server.GitHub;
using Airlock.Server.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Airlock.Server.Hosting;

/// <summary>
/// One <c>airlock serve</c> replica: the workspace session (store, signer, services) and the ASP.NET Core app
/// over it. The same services as the CLI; the server adds authentication, the API, the dashboard and workers.
/// </summary>
public sealed class AirlockServerHost : IAsyncDisposable
{
    private readonly WorkspaceSession _session;

    private AirlockServerHost(WorkspaceSession session, WebApplication app, ServerOptions options)
    {
        _session = session;
        App = app;
        Options = options;
    }

    /// <summary>The ASP.NET Core application.</summary>
    public WebApplication App { get; }

    /// <summary>How it was started.</summary>
    public ServerOptions Options { get; }

    /// <summary>This replica's own metrics registry (served at /metrics), so replicas in one process never collide.</summary>
    public CollectorRegistry MetricsRegistry => App.Services.GetRequiredService<CollectorRegistry>();

    /// <summary>The services this replica runs on.</summary>
    public AirlockServices Services => _session.Services;

    /// <summary>The addresses Kestrel listens on, once started (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<string> Addresses =>
        App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>Opens the workspace and builds the app (not started).</summary>
    public static async Task<AirlockServerHost> CreateAsync(ServerOptions options, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var session = await WorkspaceSession.OpenAsync(options.WorkspaceDirectory, options.DatabaseUrl, environment, TimeProvider.System, cancellationToken);
        try
        {
            return new AirlockServerHost(session, Build(session, options, environment), options);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => App.StartAsync(cancellationToken);

    /// <summary>Once started: serves until <paramref name="cancellationToken"/> (Ctrl+C in the CLI), then stops gracefully.</summary>
    public async Task ServeUntilCancelledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await App.StopAsync(CancellationToken.None);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await _session.DisposeAsync();
    }

    private static WebApplication Build(WorkspaceSession session, ServerOptions options, Func<string, string?> environment)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = session.Services.Workspace.Root });
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.UseKestrelCore();
        // Structured logs on stdout: one JSON object per line, with a UTC timestamp and the scopes (run id, plan id,
        // worker) as fields.
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(session.Services);
        builder.Services.AddSingleton(session.Services.Time);
        builder.Services.AddSingleton(new TokenService(session.Services.Store.Tokens, session.Services.Time, session.Services.Evidence));
        builder.Services.AddSingleton(new EvidencePublicKeys(session.EvidencePublicKeyPem));
        var registry = Prometheus.Metrics.NewCustomRegistry();
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton(_ => new Airlock.Server.Metrics.StoreMetrics(session.Services, registry, options.MetricsReuse));
        builder.Services.AddTokenAuthentication();
        builder.Services.AddApplyWorkers(session.Services, options);
        builder.Services.AddDashboard(TokenAuthentication.CookieName);
        builder.Services.AddGitHubFlow(session.Services, environment);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Airlock API";
            document.Info.Description = "Plans, approvals, applies, runs, queue, locks, freezes, evidence and releases of one Airlock workspace. Authenticate with `Authorization: Bearer <token>` (airlock token create).";
            return Task.CompletedTask;
        }));
        builder.Services.AddApiErrors();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = null;
        });

        var app = builder.Build();
        app.UseApiErrors();
        app.UseHttpMetrics(o => o.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(registry)));
        app.UseAuthentication();
        app.UseAuthorization();
        ServerEndpoints.Map(app);
        return app;
    }
}
