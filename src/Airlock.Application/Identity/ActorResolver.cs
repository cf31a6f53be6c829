namespace Airlock.Application.Identity;

/// <summary>
/// Who is acting, for local use: <c>--as</c>, else <c>AIRLOCK_ACTOR</c>, else git's <c>user.email</c>.
/// The server replaces this with API tokens; here the actor is as trustworthy as the machine.
/// </summary>
public static class ActorResolver
{
    /// <summary>The environment variable naming the actor.</summary>
    public const string ActorVariable = "AIRLOCK_ACTOR";

    /// <summary>The actor, or a <see cref="UserInputException"/> saying how to name one.</summary>
    public static string Resolve(string? asOption, Func<string, string?> environment, Func<string?> gitUserEmail)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(gitUserEmail);
        var actor = NonBlank(asOption) ?? NonBlank(environment(ActorVariable)) ?? NonBlank(gitUserEmail());
        return actor ?? throw new UserInputException($"who is acting? pass --as EMAIL, set {ActorVariable}, or set git config user.email");
    }

    private static string? NonBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
