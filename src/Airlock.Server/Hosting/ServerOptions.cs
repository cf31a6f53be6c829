namespace Airlock.Server.Hosting;

/// <summary>How one <c>airlock serve</c> replica starts.</summary>
public sealed record ServerOptions
{
    /// <summary>The loopback default: a server is exposed beyond the machine only when someone asks for it.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>The workspace directory (airlock.yaml is found from here, as for the CLI).</summary>
    public required string WorkspaceDirectory { get; init; }

    /// <summary>Where Kestrel listens; port 0 picks a free port (see <see cref="AirlockServerHost.Addresses"/>).</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>PostgreSQL connection string; null: AIRLOCK_DATABASE_URL, else the workspace's SQLite file.</summary>
    public string? DatabaseUrl { get; init; }

    /// <summary>Names this replica in logs, queue claims and metrics.</summary>
    public string ReplicaId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Apply workers on this replica (0: this replica only serves the API and reconciles).</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Lease of an apply's claims and locks, renewed every third of it; a dead replica's work lapses after this.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often an idle worker looks for a pending apply request.</summary>
    public TimeSpan WorkerPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long <c>/readyz</c> waits for the store before answering 503 (a database that stops answering, not only one that refuses).</summary>
    public TimeSpan ReadinessTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one <c>/metrics</c> text is served again before the store is read afresh (zero: every scrape reads it).</summary>
    public TimeSpan MetricsReuse { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the reconciler looks for lapsed leases; null: a quarter of <see cref="Lease"/>, between 1 and 30 seconds.</summary>
    public TimeSpan? ReconcileInterval { get; init; }
}
