namespace Airlock.Application;

/// <summary>
/// Airlock refused to go on before anything changed (exit code 3): a missing approval, an expired
/// plan, a policy deny, a freeze... The message is the one-line reason shown to the user.
/// </summary>
public sealed class RefusedException(string reason) : Exception(reason);

/// <summary>The request itself is wrong (exit code 2): unknown plan, stack or environment, invalid config, no identity.</summary>
public sealed class UserInputException(string message) : Exception(message);

/// <summary>Exit codes every governed command shares, so scripts can rely on them.</summary>
public static class ExitCodes
{
    /// <summary>Done (applied and verified, planned, approved).</summary>
    public const int Ok = 0;

    /// <summary>Failed after starting: the failure class and statement were printed.</summary>
    public const int Failed = 1;

    /// <summary>Bad input: nothing was attempted.</summary>
    public const int BadInput = 2;

    /// <summary>Refused before anything changed.</summary>
    public const int Refused = 3;

    /// <summary>Cancelled (Ctrl+C or a cancel request), by the shell convention for SIGINT.</summary>
    public const int Cancelled = 130;
}
