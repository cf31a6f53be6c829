namespace Airlock.Domain.Config;

/// <summary>One problem found in a workspace config, at a 1-based line and column.</summary>
public sealed record ConfigDiagnostic(string File, int Line, int Column, string Code, string Message)
{
    /// <summary>The compiler-style line editors and CI annotators understand.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}: error: {Message}";
}

/// <summary>Stable diagnostic codes, so scripts can match on them instead of on wording.</summary>
public static class ConfigDiagnosticCodes
{
    public const string YamlSyntax = "yaml-syntax";
    public const string DuplicateKey = "duplicate-key";
    public const string UnknownKey = "unknown-key";
    public const string MissingKey = "missing-key";
    public const string WrongType = "wrong-type";
    public const string UnknownValue = "unknown-value";
    public const string BadValue = "bad-value";
    public const string BadDuration = "bad-duration";
    public const string BadTimeZone = "bad-timezone";
    public const string BadTime = "bad-time";
    public const string BadDay = "bad-day";
    public const string BadDate = "bad-date";
    public const string EmptyWindow = "empty-window";
    public const string InvertedFreeze = "inverted-freeze";
    public const string OverlappingFreeze = "overlapping-freeze";
    public const string UnknownStack = "unknown-stack";
    public const string UnknownEnvironment = "unknown-environment";
    public const string UnknownTeam = "unknown-team";
    public const string UnknownResourceClass = "unknown-resource-class";
    public const string DependencyCycle = "dependency-cycle";
    public const string PromotionCycle = "promotion-cycle";
}
