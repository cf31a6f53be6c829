namespace Airlock.Application.Verification;

/// <summary>
/// What checks may use: placeholder values (<c>{env}</c>, <c>{stack}</c>, <c>{region}</c>,
/// <c>{account}</c>, <c>{version}</c>…) substituted into url, host, body_contains and command text,
/// the directory commands run in, the environment for commands, secrets to redact, and the drift
/// probe (the engine's drift check; true = drift found).
/// </summary>
public sealed record VerificationContext(
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Placeholders,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> Secrets,
    Func<CancellationToken, Task<bool>> DriftProbe);
