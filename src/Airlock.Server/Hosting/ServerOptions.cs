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
}
