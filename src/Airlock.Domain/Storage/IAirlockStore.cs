using Airlock.Domain.Evidence;

namespace Airlock.Domain.Storage;

/// <summary>The whole store, one per workspace (SQLite) or per team (PostgreSQL).</summary>
public interface IAirlockStore : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgresql".</summary>
    string Backend { get; }

    /// <summary>Schema version applied.</summary>
    int SchemaVersion { get; }

    /// <summary>Lease locks.</summary>
    ILockStore Locks { get; }

    /// <summary>Apply queues.</summary>
    IQueueStore Queues { get; }

    /// <summary>Runs and run events.</summary>
    IRunStore Runs { get; }

    /// <summary>Encrypted plan artifacts.</summary>
    IPlanArtifactStore Plans { get; }

    /// <summary>Approval decisions on plans.</summary>
    IApprovalStore Approvals { get; }

    /// <summary>Incident freezes.</summary>
    IFreezeStore Freezes { get; }

    /// <summary>The evidence chain.</summary>
    IEvidenceRecordStore Evidence { get; }

    /// <summary>Releases and their driving process.</summary>
    IReleaseStore Releases { get; }

    /// <summary>Application deployments (traceability).</summary>
    IDeploymentStore Deployments { get; }

    /// <summary>API tokens of the server.</summary>
    ITokenStore Tokens { get; }

    /// <summary>Apply requests for the server's workers.</summary>
    IApplyRequestStore ApplyRequests { get; }

    /// <summary>Run logs (engine output and Airlock's lines).</summary>
    IRunLogStore RunLogs { get; }
}
