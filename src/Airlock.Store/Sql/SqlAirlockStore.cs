using Airlock.Domain.Evidence;
using Airlock.Domain.Storage;
using Airlock.Store.Plans;

namespace Airlock.Store.Sql;

/// <summary>The store over one SQL dialect: the same gateways for SQLite and PostgreSQL.</summary>
public sealed class SqlAirlockStore : IAirlockStore
{
    private readonly SqlDialect _dialect;

    private SqlAirlockStore(SqlDialect dialect, TimeProvider time, Func<PlanKey> planKey, int schemaVersion)
    {
        _dialect = dialect;
        SchemaVersion = schemaVersion;
        var context = new SqlContext(dialect, time);
        Locks = new SqlLockStore(context);
        Queues = new SqlQueueStore(context);
        Runs = new SqlRunStore(context);
        Plans = new SqlPlanArtifactStore(context, new Lazy<PlanKey>(planKey));
        Approvals = new SqlApprovalStore(context);
        Freezes = new SqlFreezeStore(context);
        Evidence = new SqlEvidenceRecordStore(context);
        Releases = new SqlReleaseStore(context);
        Deployments = new SqlDeploymentStore(context);
        Tokens = new SqlTokenStore(context);
        ApplyRequests = new SqlApplyRequestStore(context);
        RunLogs = new SqlRunLogStore(context);
    }

    /// <inheritdoc />
    public string Backend => _dialect.Name;

    internal SqlDialect Dialect => _dialect;

    /// <inheritdoc />
    public int SchemaVersion { get; }

    /// <inheritdoc />
    public ILockStore Locks { get; }

    /// <inheritdoc />
    public IQueueStore Queues { get; }

    /// <inheritdoc />
    public IRunStore Runs { get; }

    /// <inheritdoc />
    public IPlanArtifactStore Plans { get; }

    /// <inheritdoc />
    public IApprovalStore Approvals { get; }

    /// <inheritdoc />
    public IFreezeStore Freezes { get; }

    /// <inheritdoc />
    public IEvidenceRecordStore Evidence { get; }

    /// <inheritdoc />
    public IReleaseStore Releases { get; }

    /// <inheritdoc />
    public IDeploymentStore Deployments { get; }

    /// <inheritdoc />
    public ITokenStore Tokens { get; }

    /// <inheritdoc />
    public IApplyRequestStore ApplyRequests { get; }

    /// <inheritdoc />
    public IRunLogStore RunLogs { get; }

    /// <summary>Applies pending migrations and returns the ready store; disposes the dialect if that fails.</summary>
    internal static async Task<SqlAirlockStore> OpenAsync(SqlDialect dialect, TimeProvider time, Func<PlanKey> planKey, CancellationToken cancellationToken)
    {
        try
        {
            var version = await Migrations.ApplyAsync(dialect, time, cancellationToken).ConfigureAwait(false);
            return new SqlAirlockStore(dialect, time, planKey, version);
        }
        catch
        {
            await dialect.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dialect.DisposeAsync();
}
