using System.Collections.Immutable;

namespace Airlock.Domain.Config;

/// <summary>The tool that plans and applies a stack.</summary>
public enum EngineKind
{
    /// <summary>OpenTofu (<c>tofu</c>).</summary>
    OpenTofu,

    /// <summary>Terraform.</summary>
    Terraform,

    /// <summary>Pulumi.</summary>
    Pulumi,

    /// <summary>Scripted commands that speak the Terraform plan JSON format.</summary>
    Command,
}

/// <summary>saved: apply the approved plan file; replan: plan again and compare materially.</summary>
public enum PlanMode
{
    /// <summary>Apply the exact saved plan.</summary>
    Saved,

    /// <summary>Plan again at apply time and compare with the approved plan.</summary>
    Replan,
}

/// <summary>Whether deletes and replacements need an explicit destroy approval by default.</summary>
public enum DestroyDefault
{
    /// <summary>Allowed unless the resource class is protected.</summary>
    Allow,

    /// <summary>Denied unless a destroy approval names them.</summary>
    Deny,
}

/// <summary>How an application's traffic moves to a new version.</summary>
public enum DeploymentStrategyKind
{
    /// <summary>Replace in place.</summary>
    Direct,

    /// <summary>Deploy beside, then switch.</summary>
    BlueGreen,

    /// <summary>Shift traffic in steps.</summary>
    Canary,
}

/// <summary>What happens to a queued run whose plan expired.</summary>
public enum StalePlanAction
{
    /// <summary>Plan again.</summary>
    Replan,

    /// <summary>Fail the run.</summary>
    Fail,
}

/// <summary>The whole airlock.yaml, validated.</summary>
public sealed record WorkspaceConfig(
    int Version,
    string Project,
    WorkspaceDefaults Defaults,
    ImmutableArray<TeamConfig> Teams,
    ImmutableArray<EnvironmentConfig> Environments,
    ImmutableArray<ResourceClassConfig> ResourceClasses,
    ImmutableArray<StackConfig> Stacks,
    ImmutableArray<ApplicationConfig> Applications,
    ImmutableArray<QueueConfig> Queues,
    PolicyConfig Policies,
    LocksConfig Locks,
    GitHubConfig? GitHub = null)
{
    /// <summary>The stack named <paramref name="name"/>, or null.</summary>
    public StackConfig? FindStack(string name) => Stacks.FirstOrDefault(s => s.Name == name);

    /// <summary>The stack named <paramref name="name"/>; throws when there is none.</summary>
    public StackConfig Stack(string name) => FindStack(name) ?? throw new KeyNotFoundException($"no stack named '{name}'");

    /// <summary>The environment named <paramref name="name"/>, or null.</summary>
    public EnvironmentConfig? FindEnvironment(string name) => Environments.FirstOrDefault(e => e.Name == name);

    /// <summary>The application named <paramref name="name"/>, or null.</summary>
    public ApplicationConfig? FindApplication(string name) => Applications.FirstOrDefault(a => a.Name == name);

    /// <summary>The engine a stack runs with: its own, else the workspace default.</summary>
    public EngineKind EffectiveEngine(StackConfig stack) => stack.Engine ?? Defaults.Engine;

    /// <summary>Stacks enabled in <paramref name="environment"/> (a stack without an environments list is enabled everywhere), in file order.</summary>
    public ImmutableArray<StackConfig> StacksEnabledIn(string environment) =>
        [.. Stacks.Where(s => s.IsEnabledIn(environment))];

    /// <summary>People who may force-unlock: members of the <c>locks.admins</c> teams, in file order without repeats.</summary>
    public ImmutableArray<string> LockAdministrators() =>
        [.. Locks.Admins.SelectMany(team => TeamMembers(team)).Distinct(StringComparer.Ordinal)];

    /// <summary>Members of <paramref name="team"/>; empty when the team does not exist.</summary>
    public ImmutableArray<string> TeamMembers(string team) =>
        Teams.FirstOrDefault(t => t.Name == team)?.Members ?? [];

    /// <summary>The resource class of a resource type (e.g. aws_db_instance → database), or null.</summary>
    public string? ResourceClassOf(string resourceType) =>
        ResourceClasses.FirstOrDefault(c => c.ResourceTypes.Contains(resourceType))?.Name;

    /// <summary>
    /// Environments in promotion order: each chain starts at an environment no other promotes
    /// to and follows <c>promotion.next</c>; environments outside any chain keep file order.
    /// </summary>
    public ImmutableArray<EnvironmentConfig> EnvironmentsInPromotionOrder()
    {
        var targets = Environments.Select(e => e.Promotion?.Next).Where(n => n is not null).ToHashSet(StringComparer.Ordinal);
        var ordered = new List<EnvironmentConfig>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in Environments.Where(e => !targets.Contains(e.Name)))
        {
            for (var current = start; current is not null && seen.Add(current.Name); current = current.Promotion?.Next is { } next ? FindEnvironment(next) : null)
            {
                ordered.Add(current);
            }
        }

        // Environments only reachable through a cycle cannot occur in a validated config; keep them anyway.
        ordered.AddRange(Environments.Where(e => !seen.Contains(e.Name)));
        return [.. ordered];
    }
}

/// <summary>Workspace-wide defaults.</summary>
public sealed record WorkspaceDefaults(EngineKind Engine, int Parallelism, ImmutableDictionary<EngineKind, ToolPin> Tools);

/// <summary>Which binary runs an engine and the exact version it must report (null: any).</summary>
public sealed record ToolPin(string? Binary, string? Version);

/// <summary>A named group of people.</summary>
public sealed record TeamConfig(string Name, ImmutableArray<string> Members);

/// <summary>A resource class and the resource types in it.</summary>
public sealed record ResourceClassConfig(string Name, ImmutableArray<string> ResourceTypes);

/// <summary>The governance of one environment.</summary>
public sealed record EnvironmentConfig(
    string Name,
    ApprovalPolicy Approvals,
    PlanPolicy Plan,
    ApplyPolicy Apply,
    RetryPolicy Retry,
    PromotionPolicy? Promotion,
    DestroyPolicy Destroy,
    ChangeWindows? Windows,
    ImmutableArray<Freeze> Freezes,
    ImmutableArray<Wave> Waves,
    string? Account,
    string? Region,
    string? Identity)
{
    /// <summary>The time zone windows and freezes are read in (UTC when no windows are set).</summary>
    public TimeZoneInfo TimeZone => Windows?.TimeZone ?? TimeZoneInfo.Utc;
}

/// <summary>Approvals a change needs.</summary>
public sealed record ApprovalPolicy(int Required, ImmutableArray<string> Roles, bool SeparationOfDuties);

/// <summary>How plans are made and how fresh they must be.</summary>
public sealed record PlanPolicy(PlanMode Mode, TimeSpan MaxAge, bool RequireBaseCurrent, bool RequireNoMaterialDrift);

/// <summary>Who may cancel a running apply.</summary>
/// <param name="Kind">anyone, restricted (stack owners) or team.</param>
/// <param name="Team">The team when <paramref name="Kind"/> is team.</param>
public sealed record CancellationPolicy(string Kind, string? Team)
{
    /// <summary>Anyone may cancel.</summary>
    public const string Anyone = "anyone";

    /// <summary>Only stack owners may cancel.</summary>
    public const string Restricted = "restricted";

    /// <summary>Only members of <see cref="Team"/> may cancel.</summary>
    public const string TeamKind = "team";
}

/// <summary>How an apply runs.</summary>
public sealed record ApplyPolicy(TimeSpan Timeout, CancellationPolicy Cancellation, TimeSpan GracefulShutdown);

/// <summary>Automatic retry of failed applies: exponential backoff from <see cref="Backoff"/>, capped at <see cref="MaxBackoff"/>.</summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan Backoff, TimeSpan MaxBackoff, ImmutableArray<string> Retryable);

/// <summary>Where a release goes next and how long it soaks first.</summary>
public sealed record PromotionPolicy(string? Next, TimeSpan Soak, ImmutableArray<CheckConfig> Health);

/// <summary>The destroy guard of an environment.</summary>
public sealed record DestroyPolicy(DestroyDefault Default, ImmutableArray<string> ProtectedClasses);

/// <summary>Change windows in one time zone.</summary>
public sealed record ChangeWindows(TimeZoneInfo TimeZone, ImmutableArray<AllowedPeriod> Allow);

/// <summary>Days of the week and a [From, To) time-of-day range; To may be 24:00.</summary>
public sealed record AllowedPeriod(ImmutableArray<DayOfWeek> Days, TimeSpan From, TimeSpan To);

/// <summary>Whole days From..To inclusive when nothing may be applied.</summary>
public sealed record Freeze(string Name, DateOnly From, DateOnly To, string? Reason);

/// <summary>One wave of regions in a rollout.</summary>
public sealed record Wave(string Name, ImmutableArray<string> Regions, TimeSpan Bake, int MaxParallel);

/// <summary>One stack.</summary>
public sealed record StackConfig(
    string Name,
    string Path,
    EngineKind? Engine,
    ImmutableArray<string> Owners,
    ImmutableArray<string>? Environments,
    ImmutableArray<string> DependsOn,
    ImmutableArray<StackInput> Inputs,
    ImmutableArray<string> Locks,
    string? Identity,
    ImmutableArray<CheckConfig> Verify,
    CommandEngineConfig? Command,
    string? Account,
    string? Region)
{
    /// <summary>True when the stack runs in <paramref name="environment"/>.</summary>
    public bool IsEnabledIn(string environment) => Environments is not { } list || list.Contains(environment);

    /// <summary>The identity profile for <paramref name="environment"/> ({env} substituted), or null.</summary>
    public string? IdentityFor(string environment) => Identity?.Replace("{env}", environment, StringComparison.Ordinal);
}

/// <summary>An input taken from another stack's output.</summary>
public sealed record StackInput(string Name, string FromStack, string Output);

/// <summary>Commands of the command engine.</summary>
public sealed record CommandEngineConfig(string Plan, string Apply, string? StateSerial, string? Outputs);

/// <summary>A verification or health check; exactly one of the kinds.</summary>
public abstract record CheckConfig;

/// <summary>
/// An HTTP GET that must answer <see cref="Expect"/>. Within <see cref="StartPeriod"/> of the first attempt, attempts
/// that get no answer at all (the service is not listening yet) do not count against <see cref="Retries"/>.
/// </summary>
public sealed record HttpCheck(string Url, int Expect, int Retries, TimeSpan Interval, TimeSpan Timeout, string? BodyContains, TimeSpan StartPeriod = default) : CheckConfig;

/// <summary>
/// A TCP connection that must open; <see cref="Retries"/> extra attempts, <see cref="Interval"/> apart; failed attempts
/// within <see cref="StartPeriod"/> of the first do not count.
/// </summary>
public sealed record TcpCheck(string Host, int Port, TimeSpan Timeout, int Retries = 0, TimeSpan Interval = default, TimeSpan StartPeriod = default) : CheckConfig;

/// <summary>A command that must exit 0; <see cref="Retries"/> extra runs, <see cref="Interval"/> apart.</summary>
public sealed record CommandCheck(string Run, TimeSpan Timeout, int Retries = 0, TimeSpan Interval = default) : CheckConfig;

/// <summary>A fresh plan must show no changes.</summary>
public sealed record DriftCheck : CheckConfig;

/// <summary>A deployable application.</summary>
public sealed record ApplicationConfig(
    string Name,
    ImmutableArray<string> DependsOn,
    VersionSource? Version,
    string? Build,
    string? Test,
    string Deploy,
    string? Smoke,
    string? Rollback,
    DeploymentStrategy Strategy,
    ImmutableArray<CheckConfig> Health);

/// <summary>Where the deployed version comes from (git-tag or git-sha) and the tag pattern.</summary>
public sealed record VersionSource(string From, string? Pattern);

/// <summary>Traffic strategy of a deployment.</summary>
public sealed record DeploymentStrategy(DeploymentStrategyKind Kind, ImmutableArray<int> Steps, TimeSpan Pause)
{
    /// <summary>Blue-green: the command that moves traffic to <c>{color}</c> (required for blue-green, validated).</summary>
    public string? Switch { get; init; }
}

/// <summary>A run queue.</summary>
public sealed record QueueConfig(
    string Name,
    string? MatchEnvironment,
    ImmutableArray<string>? MatchStacks,
    int Concurrency,
    string? Key,
    ImmutableArray<string> PriorityClasses,
    StalePlanAction StalePlan);

/// <summary>Policy settings.</summary>
public sealed record PolicyConfig(string? CustomRulesPath);

/// <summary>Workspace-wide lock settings.</summary>
/// <param name="Admins">Teams whose members may force-unlock (`airlock unlock`).</param>
public sealed record LocksConfig(ImmutableArray<string> Admins);

/// <summary>What an <c>airlock apply</c> comment on a pull request needs before anything is launched.</summary>
public enum GitHubApplyRequirement
{
    /// <summary>Every plan of the pull request's head has the approvals its environment needs.</summary>
    Approved,

    /// <summary>GitHub reports the pull request mergeable (no conflicts).</summary>
    Mergeable,

    /// <summary>The head contains the base branch's tip (and GitHub does not report it behind).</summary>
    UpToDate,
}

/// <summary>The pull-request flow of <c>airlock serve</c> (the <c>github:</c> section).</summary>
/// <param name="ApiUrl">REST API base: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.</param>
/// <param name="Repository">owner/name of the repository whose webhooks are accepted.</param>
/// <param name="Remote">The git remote pull-request heads are fetched from.</param>
/// <param name="TokenEnv">Environment variable holding the API token (never in the file).</param>
/// <param name="WebhookSecretEnv">Environment variable holding the webhook secret (never in the file).</param>
/// <param name="DashboardUrl">Public base URL of the dashboard, for commit-status links; null: the server's own address.</param>
/// <param name="Environments">Environments a pull request is planned in; empty: every environment its stacks are enabled in.</param>
/// <param name="Users">GitHub login → Airlock actor.</param>
/// <param name="UserPattern">Actor for logins not in <paramref name="Users"/>, with {login} substituted; null: unmapped logins act as nobody.</param>
/// <param name="ApplyRequirements">What an apply comment needs.</param>
public sealed record GitHubConfig(
    string ApiUrl,
    string Repository,
    string Remote,
    string TokenEnv,
    string WebhookSecretEnv,
    string? DashboardUrl,
    ImmutableArray<string> Environments,
    ImmutableDictionary<string, string> Users,
    string? UserPattern,
    ImmutableArray<GitHubApplyRequirement> ApplyRequirements)
{
    /// <summary>The public API base URL.</summary>
    public const string DefaultApiUrl = "https://api.github.com";

    /// <summary>The Airlock actor a GitHub login acts as, or null when it is not mapped. Logins compare case-insensitively, as on GitHub.</summary>
    public string? ActorFor(string login)
    {
        ArgumentNullException.ThrowIfNull(login);
        foreach (var (name, actor) in Users)
        {
            if (string.Equals(name, login, StringComparison.OrdinalIgnoreCase))
            {
                return actor;
            }
        }

        return UserPattern?.Replace("{login}", login.ToLowerInvariant(), StringComparison.Ordinal);
    }
}
