using Airlock.Application.Workspace;
using Airlock.Domain.Evidence;
using Airlock.Store;
using Airlock.Store.Keys;
using Airlock.Store.Sql;

namespace Airlock.Application;

/// <summary>
/// One open workspace for a host: airlock.yaml found from a directory, its store (SQLite under .airlock/, or
/// PostgreSQL from --database / AIRLOCK_DATABASE_URL), the evidence signer, and the services over them.
/// The CLI opens one per command; the server one for its lifetime.
/// </summary>
public sealed class WorkspaceSession : IAsyncDisposable
{
    /// <summary>Environment variable naming a configured evidence signing key (instead of the generated one).</summary>
    public const string EvidenceKeyVariable = "AIRLOCK_EVIDENCE_KEY";

    private readonly SqlAirlockStore _store;
    private readonly EcdsaCheckpointSigner _signer;

    private WorkspaceSession(SqlAirlockStore store, EcdsaCheckpointSigner signer, AirlockServices services)
    {
        _store = store;
        _signer = signer;
        Services = services;
    }

    /// <summary>The services of this workspace.</summary>
    public AirlockServices Services { get; }

    /// <summary>The public key (PEM) of the evidence signer in use, so a verifier trusts it even when it was configured rather than generated.</summary>
    public string EvidencePublicKeyPem => _signer.ExportPublicKeyPem();

    /// <summary>Opens the workspace found from <paramref name="directory"/>.</summary>
    public static async Task<WorkspaceSession> OpenAsync(string directory, string? databaseUrl, Func<string, string?> environment, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var workspace = AirlockWorkspace.Load(directory);
        var store = await AirlockStores.OpenForCommandAsync(workspace.Root, databaseUrl, environment, new StoreOptions(), cancellationToken);
        try
        {
            var signer = environment(EvidenceKeyVariable) is { Length: > 0 } configured
                ? EvidenceKeyStore.LoadSigner(configured)
                : new EvidenceKeyStore(Path.Combine(workspace.Root, ".airlock", "keys")).LoadOrCreateSigner();
            return new WorkspaceSession(store, signer, new AirlockServices(workspace, store, signer, time));
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _signer.Dispose();
        await _store.DisposeAsync();
    }
}
