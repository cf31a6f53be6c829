namespace Airlock.Domain.Storage;

/// <summary>A stored plan's metadata; the artifact itself is encrypted at rest.</summary>
/// <param name="PlanId">Plan id.</param>
/// <param name="Stack">Stack it was made for.</param>
/// <param name="Environment">Environment it was made for.</param>
/// <param name="Commit">Source commit.</param>
/// <param name="PlanDigest">Digest of the normalised plan summary ("sha256:…").</param>
/// <param name="ArtifactSha256">"sha256:" + hex of the plaintext artifact, checked on every read.</param>
/// <param name="CreatedAt">When it was planned.</param>
/// <param name="ExpiresAt">After this it must not be applied.</param>
/// <param name="MetadataJson">Other metadata (state serial, tool versions, lock-file digest…) as JSON.</param>
/// <param name="Region">Target region (one per wave region), or null when the target has none.</param>
public sealed record PlanRecord(string PlanId, string Stack, string Environment, string Commit, string PlanDigest, string ArtifactSha256, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string MetadataJson, string? Region = null);

/// <summary>What a caller supplies to save a plan.</summary>
/// <param name="PlanId">Plan id.</param>
/// <param name="Stack">Stack.</param>
/// <param name="Environment">Environment.</param>
/// <param name="Commit">Commit.</param>
/// <param name="PlanDigest">Summary digest.</param>
/// <param name="ExpiresAt">Expiry.</param>
/// <param name="MetadataJson">Other metadata as JSON.</param>
/// <param name="Region">Target region, or null when the target has none.</param>
public sealed record NewPlan(string PlanId, string Stack, string Environment, string Commit, string PlanDigest, DateTimeOffset ExpiresAt, string MetadataJson, string? Region = null);

/// <summary>Thrown when a plan artifact cannot be used: expired, tampered with, or unknown.</summary>
public sealed class PlanArtifactException(string planId, string message) : Exception($"plan {planId}: {message}")
{
    /// <summary>The plan.</summary>
    public string PlanId { get; } = planId;
}

/// <summary>Thrown when a plan must be encrypted or decrypted but no plan key is configured.</summary>
public sealed class PlanKeyMissingException(string message) : Exception(message);

/// <summary>Which plans to list, newest first (metadata only).</summary>
/// <param name="Stack">Only this stack.</param>
/// <param name="Environment">Only this environment.</param>
/// <param name="Limit">At most this many.</param>
public sealed record PlanQuery(string? Stack = null, string? Environment = null, int Limit = 50);

/// <summary>Plans: metadata plus the engine's artifact, encrypted (AES-GCM) and hashed at rest.</summary>
public interface IPlanArtifactStore
{
    /// <summary>Encrypts and stores <paramref name="artifact"/> with the plan's metadata.</summary>
    Task<PlanRecord> SaveAsync(NewPlan plan, ReadOnlyMemory<byte> artifact, CancellationToken cancellationToken);

    /// <summary>The metadata, or null.</summary>
    Task<PlanRecord?> GetAsync(string planId, CancellationToken cancellationToken);

    /// <summary>The most recently created plan for <paramref name="stack"/> in <paramref name="environment"/> with no region, or null.</summary>
    Task<PlanRecord?> LatestAsync(string stack, string environment, CancellationToken cancellationToken) =>
        LatestAsync(stack, environment, null, cancellationToken);

    /// <summary>
    /// The most recently created plan for <paramref name="stack"/> in <paramref name="environment"/> and exactly
    /// <paramref name="region"/> (null: plans without a region), or null. A plan for one region never supersedes another region's.
    /// </summary>
    Task<PlanRecord?> LatestAsync(string stack, string environment, string? region, CancellationToken cancellationToken);

    /// <summary>
    /// Decrypts and returns the artifact. Throws <see cref="PlanArtifactException"/> when the plan is unknown,
    /// expired, or its ciphertext, metadata or hash was altered.
    /// </summary>
    Task<byte[]> ReadArtifactAsync(string planId, CancellationToken cancellationToken);

    /// <summary>
    /// Resolves the plan key now. Plans call it before running the engine, so a store with no key configured
    /// refuses in one line before any work instead of after it. Throws <see cref="PlanKeyMissingException"/>.
    /// </summary>
    void EnsureKeyAvailable();

    /// <summary>Plans newest first (metadata, never the artifact).</summary>
    Task<IReadOnlyList<PlanRecord>> ListAsync(PlanQuery query, CancellationToken cancellationToken);
}
