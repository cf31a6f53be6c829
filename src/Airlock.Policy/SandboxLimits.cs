namespace Airlock.Policy;

/// <summary>
/// Resource limits for one custom rule evaluation. A rule that exceeds any of them fails
/// with a message naming the limit; it never hangs or exhausts the host.
/// </summary>
public sealed record SandboxLimits
{
    /// <summary>Wall-clock budget per evaluation.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Memory the script may allocate.</summary>
    public long MemoryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Maximum call depth.</summary>
    public int MaxRecursion { get; init; } = 256;

    /// <summary>Maximum statements executed.</summary>
    public int MaxStatements { get; init; } = 10_000_000;

    /// <summary>The defaults used when airlock.yaml says nothing.</summary>
    public static SandboxLimits Default { get; } = new();
}
