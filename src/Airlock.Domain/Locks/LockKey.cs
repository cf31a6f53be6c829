namespace Airlock.Domain.Locks;

/// <summary>What a lock protects; the numeric order is the global acquisition order.</summary>
public enum LockKind
{
    /// <summary>An environment or project freeze: taken first so a freeze blocks everything under it.</summary>
    Freeze = 0,

    /// <summary>A named shared resource such as <c>shared-network/prod</c>.</summary>
    Semantic = 1,

    /// <summary>One stack: <c>&lt;project&gt;/&lt;env&gt;/&lt;account&gt;/&lt;region&gt;/&lt;stack&gt;</c>.</summary>
    Stack = 2,

    /// <summary>An engine state backend (e.g. a remote state object), taken last.</summary>
    State = 3,
}

/// <summary>
/// A lock name. Its text form is <c>&lt;kind&gt;:&lt;name&gt;</c> (e.g. <c>stack:acme/prod/123456789012/eu-west-1/network</c>)
/// so every key is unambiguous in the store, in `airlock locks` and on the `airlock unlock` command line.
/// </summary>
public sealed record LockKey
{
    private LockKey(LockKind kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    /// <summary>Which kind of lock, which decides its place in the global order.</summary>
    public LockKind Kind { get; }

    /// <summary>The name within its kind.</summary>
    public string Name { get; }

    /// <summary>The stored and displayed form, <c>&lt;kind&gt;:&lt;name&gt;</c>.</summary>
    public string Value => KindPrefix(Kind) + ":" + Name;

    /// <summary>The lock for one stack.</summary>
    public static LockKey Stack(string project, string environment, string account, string region, string stack) =>
        new(LockKind.Stack, string.Join('/', Segment(project, "project"), Segment(environment, "environment"), Segment(account, "account"), Segment(region, "region"), Segment(stack, "stack")));

    /// <summary>A semantic lock, e.g. <c>Semantic("shared-network", "prod")</c> → <c>semantic:shared-network/prod</c>.</summary>
    public static LockKey Semantic(string name, string environment) =>
        new(LockKind.Semantic, Segment(name, "semantic lock name") + "/" + Segment(environment, "environment"));

    /// <summary>A freeze over a scope such as an environment (<c>freeze:prod</c>) or <c>project/env</c>.</summary>
    public static LockKey Freeze(string scope) => new(LockKind.Freeze, Path(scope, "freeze scope"));

    /// <summary>The lock on an engine state backend, identified by its address.</summary>
    public static LockKey State(string stateAddress) => new(LockKind.State, Address(stateAddress, "state address"));

    /// <summary>Parses the text form; a bare five-segment path is read as a stack key.</summary>
    /// <exception cref="FormatException">The text is not a lock key; the message says why.</exception>
    public static LockKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            var parts = text.Split('/');
            if (parts.Length == 5)
            {
                return Stack(parts[0], parts[1], parts[2], parts[3], parts[4]);
            }

            throw new FormatException($"lock key '{text}' needs a kind prefix (freeze:, semantic:, stack:, state:) or the stack form <project>/<env>/<account>/<region>/<stack>");
        }

        var prefix = text[..colon];
        var name = text[(colon + 1)..];
        switch (prefix)
        {
            case "freeze":
                return Freeze(name);
            case "semantic":
                var slash = name.LastIndexOf('/');
                if (slash <= 0)
                {
                    throw new FormatException($"semantic lock key '{text}' must be semantic:<name>/<environment>");
                }

                return Semantic(name[..slash], name[(slash + 1)..]);
            case "stack":
                var segments = name.Split('/');
                if (segments.Length != 5)
                {
                    throw new FormatException($"stack lock key '{text}' must be stack:<project>/<env>/<account>/<region>/<stack>");
                }

                return Stack(segments[0], segments[1], segments[2], segments[3], segments[4]);
            case "state":
                return State(name);
            default:
                throw new FormatException($"lock key '{text}' has unknown kind '{prefix}' (expected freeze, semantic, stack or state)");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Value;

    private static string KindPrefix(LockKind kind) => kind switch
    {
        LockKind.Freeze => "freeze",
        LockKind.Semantic => "semantic",
        LockKind.Stack => "stack",
        LockKind.State => "state",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown lock kind"),
    };

    private static string Segment(string value, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new FormatException($"lock {what} is empty");
        }

        if (value.Contains('/', StringComparison.Ordinal) || value.Any(char.IsWhiteSpace) || value.Contains(':', StringComparison.Ordinal))
        {
            throw new FormatException($"lock {what} '{value}' must not contain '/', ':' or whitespace");
        }

        return value;
    }

    // State addresses are URLs or bucket paths (s3://bucket/key), so only emptiness and whitespace are refused.
    private static string Address(string value, string what) =>
        string.IsNullOrWhiteSpace(value) || value.Any(char.IsWhiteSpace)
            ? throw new FormatException($"lock {what} '{value}' must be non-empty and contain no whitespace")
            : value;

    private static string Path(string value, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new FormatException($"lock {what} is empty");
        }

        if (value.Any(char.IsWhiteSpace) || value.Split('/').Any(s => s.Length == 0))
        {
            throw new FormatException($"lock {what} '{value}' must not contain whitespace or empty segments");
        }

        return value;
    }
}
