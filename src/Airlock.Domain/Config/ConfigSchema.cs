using System.Collections.Immutable;

namespace Airlock.Domain.Config;

/// <summary>
/// The shape of airlock.yaml, declared once. The loader checks keys and value kinds against it
/// and <see cref="ConfigJsonSchema"/> renders it as JSON Schema, so the two cannot disagree.
/// </summary>
public abstract record SchemaNode(string Description);

/// <summary>A mapping with a fixed set of keys.</summary>
/// <param name="ExactlyOneOf">When true the mapping must hold exactly one of its keys (a tagged union such as a check).</param>
public sealed record ObjectSchema(string Description, ImmutableArray<SchemaProperty> Properties, bool ExactlyOneOf = false) : SchemaNode(Description)
{
    /// <summary>The property named <paramref name="name"/>, or null.</summary>
    public SchemaProperty? Property(string name) => Properties.FirstOrDefault(p => p.Name == name);
}

/// <summary>One key of an <see cref="ObjectSchema"/>.</summary>
public sealed record SchemaProperty(string Name, SchemaNode Schema, bool Required = false, string? Default = null);

/// <summary>A mapping whose keys are user-chosen names (teams, stacks, …); <paramref name="KeyValues"/> restricts them when not empty.</summary>
public sealed record MapSchema(string Description, SchemaNode Values, ImmutableArray<string> KeyValues = default) : SchemaNode(Description);

/// <summary>A sequence of items of one shape.</summary>
public sealed record ListSchema(string Description, SchemaNode Items) : SchemaNode(Description);

/// <summary>What a scalar must look like.</summary>
public enum ScalarKind
{
    /// <summary>Any text.</summary>
    Text,

    /// <summary>A whole number within the optional bounds.</summary>
    WholeNumber,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>A duration such as 30s, 5m, 1h30m, 2d.</summary>
    Duration,

    /// <summary>A time of day HH:MM (24:00 allowed as an end).</summary>
    TimeOfDay,

    /// <summary>A calendar date YYYY-MM-DD.</summary>
    Date,

    /// <summary>One of a fixed list of words.</summary>
    Enum,
}

/// <summary>A scalar value of one <see cref="ScalarKind"/>.</summary>
public sealed record ScalarSchema(string Description, ScalarKind Kind, ImmutableArray<string> Values = default, int? Minimum = null, int? Maximum = null) : SchemaNode(Description);

/// <summary>The declaration of every key airlock.yaml accepts.</summary>
public static class ConfigSchema
{
    /// <summary>Engine names accepted in <c>engine</c> keys.</summary>
    public static readonly ImmutableArray<string> EngineNames = ["opentofu", "terraform", "pulumi", "command"];

    /// <summary>Day names accepted in change windows (short and long forms).</summary>
    public static readonly ImmutableArray<string> DayNames =
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

    /// <summary>Failure kinds a retry policy may name as retryable.</summary>
    public static readonly ImmutableArray<string> RetryableFailures =
        ["throttled", "transient_before_mutation", "lock_unavailable", "runner_failure", "pre_mutation"];

    /// <summary>The root of the file.</summary>
    public static readonly ObjectSchema Root = BuildRoot();

    private static ScalarSchema Text(string description) => new(description, ScalarKind.Text);

    private static ScalarSchema Int(string description, int? min = null, int? max = null) => new(description, ScalarKind.WholeNumber, Minimum: min, Maximum: max);

    private static ScalarSchema Bool(string description) => new(description, ScalarKind.Boolean);

    private static ScalarSchema Duration(string description) => new(description, ScalarKind.Duration);

    private static ScalarSchema OneOf(string description, params ImmutableArray<string> values) => new(description, ScalarKind.Enum, values);

    private static ListSchema Names(string description, string itemDescription) => new(description, Text(itemDescription));

    private static SchemaProperty P(string name, SchemaNode schema, bool required = false, string? @default = null) => new(name, schema, required, @default);

    private static ObjectSchema Obj(string description, params ImmutableArray<SchemaProperty> properties) => new(description, properties);

    private static ObjectSchema Check(string description) => new(
        description,
        [
            P("http", Obj(
                "An HTTP GET that must answer with the expected status.",
                P("url", Text("URL to request; {env} and {version} are substituted."), required: true),
                P("expect", Int("Expected HTTP status code.", 100, 599), @default: "200"),
                P("retries", Int("Extra attempts before the check fails.", 0), @default: "0"),
                P("interval", Duration("Wait between attempts."), @default: "10s"),
                P("timeout", Duration("Time limit for one attempt."), @default: "10s"),
                P("start_period", Duration("Time a service just deployed gets to start answering: until it ends, attempts that get no answer (connection refused, no response) do not count against retries; an answer always counts."), @default: "0s"),
                P("body_contains", Text("Text the response body must contain; {env} and {version} are substituted.")))),
            P("tcp", Obj(
                "A TCP connection that must open.",
                P("host", Text("Host name or address; {env} is substituted."), required: true),
                P("port", Int("TCP port.", 1, 65535), required: true),
                P("retries", Int("Extra attempts before the check fails.", 0), @default: "0"),
                P("interval", Duration("Wait between attempts."), @default: "10s"),
                P("timeout", Duration("Time limit for one connection attempt."), @default: "5s"),
                P("start_period", Duration("Time a service just deployed gets to start listening: failed connections until it ends do not count against retries."), @default: "0s"))),
            P("command", Obj(
                "A command that must exit 0.",
                P("run", Text("Command line, run by the shell in the stack directory."), required: true),
                P("retries", Int("Extra attempts before the check fails.", 0), @default: "0"),
                P("interval", Duration("Wait between attempts."), @default: "10s"),
                P("timeout", Duration("Time limit for one run of the command."), @default: "5m"))),
            P("drift", Obj("A fresh plan must show no changes.")),
        ],
        ExactlyOneOf: true);

    private static ObjectSchema BuildRoot()
    {
        var environment = Obj(
            "The governance of one environment.",
            P("approvals", Obj(
                "Who must approve a change before it is applied.",
                P("required", Int("Number of distinct approvals needed.", 0), @default: "0"),
                P("roles", Names("Teams that must each be represented among the approvers (by different people under separation_of_duties); members of these teams and of the stack's owners may approve. Empty: stack owners may approve, or anyone when the stack has no owners.", "Team name.")),
                P("separation_of_duties", Bool("The author of a change may not approve it."), @default: "false"))),
            P("plan", Obj(
                "How plans are produced and how fresh they must be.",
                P("mode", OneOf("saved: apply the exact saved plan; replan: plan again at apply time and compare by material equivalence.", "saved", "replan"), @default: "saved"),
                P("max_age", Duration("Oldest plan that may still be applied."), @default: "1h"),
                P("require_base_current", Bool("The plan's base commit must still be the branch head."), @default: "false"),
                P("require_no_material_drift", Bool("A fresh plan at apply time must not differ materially from the approved one."), @default: "false"))),
            P("apply", Obj(
                "How an apply runs.",
                P("timeout", Duration("Apply time limit; then it is interrupted."), @default: "1h"),
                P("cancellation", Text("Who may cancel a running apply: anyone, restricted (stack owners), or a team name."), @default: "anyone"),
                P("graceful_shutdown", Duration("Grace period between the interrupt and the kill."), @default: "30s"))),
            P("retry", Obj(
                "Automatic retries of failed applies.",
                P("max_attempts", Int("Attempts in total, the first included.", 1), @default: "1"),
                P("backoff", Duration("Wait before the second attempt; doubles each time."), @default: "10s"),
                P("max_backoff", Duration("Upper bound of the wait between attempts."), @default: "5m"),
                P("retryable", new ListSchema("Failure kinds that may be retried automatically.", OneOf("Failure kind.", RetryableFailures))))),
            P("promotion", Obj(
                "Where a release goes after this environment.",
                P("next", Text("The environment that follows this one.")),
                P("soak", Duration("How long health checks must pass before promotion."), @default: "0s"),
                P("health", new ListSchema("Checks repeated during the soak.", Check("A health check."))))),
            P("destroy", Obj(
                "The destroy guard.",
                P("default", OneOf("Whether deletes and replacements are allowed without a destroy approval.", "allow", "deny"), @default: "allow"),
                P("protected_classes", Names("Resource classes that always need a destroy approval.", "Resource class name.")))),
            P("windows", Obj(
                "Change windows: applies are allowed only inside them (break-glass excepted).",
                P("timezone", Text("IANA time zone of the windows and freezes, e.g. Europe/Berlin."), @default: "UTC"),
                P("allow", new ListSchema("Allowed periods.", Obj(
                    "Days and hours when changes may be applied.",
                    P("days", new ListSchema("Days of the week.", OneOf("Day name.", DayNames)), required: true),
                    P("from", new ScalarSchema("Start time HH:MM (inclusive).", ScalarKind.TimeOfDay), required: true),
                    P("to", new ScalarSchema("End time HH:MM (exclusive, 24:00 for midnight).", ScalarKind.TimeOfDay), required: true))), required: true))),
            P("freezes", new ListSchema("Date ranges when no change may be applied.", Obj(
                "A freeze: whole days from..to inclusive, in the windows' time zone (UTC when none).",
                P("name", Text("Freeze name shown to users."), required: true),
                P("from", new ScalarSchema("First frozen day YYYY-MM-DD.", ScalarKind.Date), required: true),
                P("to", new ScalarSchema("Last frozen day YYYY-MM-DD (inclusive).", ScalarKind.Date), required: true),
                P("reason", Text("Why changes are frozen."))))),
            P("waves", new ListSchema("Regions rolled out in order, canary first.", Obj(
                "One wave of regions.",
                P("name", Text("Wave name."), required: true),
                P("regions", Names("Regions in this wave.", "Region."), required: true),
                P("bake", Duration("Time the wave must stay healthy before the next starts."), @default: "0s"),
                P("max_parallel", Int("Regions of this wave changed at once.", 1), @default: "1")))),
            P("account", Text("Cloud account / subscription / project the environment targets.")),
            P("region", Text("Default region of the environment.")),
            P("identity", Text("Default execution identity profile for stacks in this environment.")));

        var stack = Obj(
            "One state boundary: a directory applied by one engine.",
            P("path", Text("Directory of the stack, relative to the workspace root."), required: true),
            P("engine", OneOf("Engine that plans and applies the stack; defaults.engine when omitted.", EngineNames)),
            P("owners", Names("Teams that own the stack.", "Team name.")),
            P("environments", Names("Environments the stack is enabled in; all when omitted.", "Environment name.")),
            P("depends_on", Names("Stacks that must be applied first.", "Stack name.")),
            P("inputs", new MapSchema("Inputs taken from other stacks' outputs, as name: stack.output.", Text("stack.output reference."))),
            P("locks", Names("Semantic locks taken together with the stack lock.", "Lock name.")),
            P("identity", Text("Execution identity profile; {env} is substituted.")),
            P("verify", new ListSchema("Checks run after an apply.", Check("A verification check."))),
            P("command", Obj(
                "Commands of the command engine.",
                P("plan", Text("Writes Terraform-format plan JSON to $AIRLOCK_PLAN_JSON."), required: true),
                P("apply", Text("Applies the saved plan $AIRLOCK_PLAN_FILE."), required: true),
                P("state_serial", Text("Prints the current state serial.")),
                P("outputs", Text("Prints the stack outputs as JSON.")))),
            P("account", Text("Cloud account override for this stack.")),
            P("region", Text("Region override for this stack.")));

        var application = Obj(
            "A deployable service built on the stacks.",
            P("depends_on", Names("Stacks the application needs.", "Stack name.")),
            P("version", Obj(
                "Where the version being deployed comes from.",
                P("from", OneOf("Version source.", "git-tag", "git-sha"), required: true),
                P("pattern", Text("Glob the tag must match (git-tag).")))),
            P("build", Text("Build command, run once per release.")),
            P("test", Text("Test command.")),
            P("deploy", Text("Deploy command; {env} and {version} are substituted."), required: true),
            P("smoke", Text("Smoke-test command run after a deploy.")),
            P("rollback", Text("Rollback command; {env} and {previous_version} are substituted.")),
            P("strategy", Obj(
                "How traffic moves to the new version.",
                P("kind", OneOf("Strategy.", "direct", "blue-green", "canary"), @default: "direct"),
                P("steps", new ListSchema("Traffic percentages for canary steps.", Int("Percent of traffic.", 1, 100))),
                P("pause", Duration("Pause between steps."), @default: "0s"),
                P("switch", Text("Blue-green only (required there): moves traffic to {color}.")))),
            P("health", new ListSchema("Health checks after a deploy and during soak.", Check("A health check."))));

        var queue = Obj(
            "A queue with its own concurrency.",
            P("match", Obj(
                "Which runs enter this queue.",
                P("environment", Text("Environment name."), required: true),
                P("stacks", Names("Stack names; all when omitted.", "Stack name."))), required: true),
            P("concurrency", Int("Runs in progress at once.", 1), @default: "1"),
            P("key", OneOf("Apply the concurrency limit per distinct value of this key (e.g. per application) instead of to the whole queue.", "stack", "application")),
            P("priority_classes", Names("Priority classes, highest first; FIFO within a class.", "Class name."), @default: "[standard]"),
            P("stale_plan", OneOf("What happens when a plan expires while queued: replan (plan again; applied only if it matches the approved plan in substance) or fail (refused).", "replan", "fail"), @default: "replan"));

        return Obj(
            "Airlock workspace configuration (airlock.yaml).",
            P("version", Int("Config format version; must be 1.", 1, 1), required: true),
            P("project", Text("Project name."), required: true),
            P("defaults", Obj(
                "Defaults for every stack.",
                P("engine", OneOf("Default engine.", EngineNames), @default: "opentofu"),
                P("parallelism", Int("Independent stacks run at once.", 1), @default: "4"),
                P("tools", new MapSchema(
                    "Tool binary and version pin per engine.",
                    Obj(
                        "Binary and version of one engine's tool.",
                        P("binary", Text("Executable name or path.")),
                        P("version", Text("Exact version the tool must report."))),
                    ["opentofu", "terraform", "pulumi"])))),
            P("teams", new MapSchema("Teams and their members.", Names("Members (e-mail or user name).", "Member."))),
            P("environments", new MapSchema("Environments, by name.", environment), required: true),
            P("resource_classes", new MapSchema("Resource classes and the resource types in them.", Names("Resource types.", "Resource type, e.g. aws_db_instance."))),
            P("stacks", new MapSchema("Stacks, by name.", stack)),
            P("applications", new MapSchema("Applications, by name.", application)),
            P("queues", new MapSchema("Run queues, by name.", queue)),
            P("locks", Obj(
                "Workspace-wide lock settings.",
                P("admins", Names("Teams whose members may force-unlock a held lock (`airlock unlock`); nobody may when empty.", "Team name.")))),
            P("policies", Obj(
                "Policy rules.",
                P("custom", Text("Directory of custom rules, evaluated at plan time and again at apply time.")))),
            P("github", Obj(
                "The pull-request flow of `airlock serve`: webhooks, plan comments, commit statuses, approvals by review, applies by comment.",
                P("repository", Text("owner/name of the repository whose webhooks are accepted."), required: true),
                P("api_url", Text("REST API base URL; for GitHub Enterprise Server https://HOST/api/v3."), @default: GitHubConfig.DefaultApiUrl),
                P("remote", Text("Git remote of the workspace that pull-request heads are fetched from."), @default: "origin"),
                P("token_env", Text("Environment variable holding the API token (needs pull requests, issues and commit statuses: write)."), @default: "AIRLOCK_GITHUB_TOKEN"),
                P("webhook_secret_env", Text("Environment variable holding the webhook secret."), @default: "AIRLOCK_GITHUB_WEBHOOK_SECRET"),
                P("dashboard_url", Text("Public base URL of the dashboard, for commit-status links (/plans/ID); default: the server's own address.")),
                P("environments", Names("Environments a pull request is planned in; default: every environment its stacks are enabled in.", "Environment name.")),
                P("users", new MapSchema("GitHub login → Airlock actor (the identity approvals and applies are recorded under).", Text("Airlock actor, e.g. alice@example.com."))),
                P("user_pattern", Text("Actor for logins not listed in users, {login} substituted (lower case), e.g. {login}@example.com; default: unlisted logins may not approve or apply.")),
                P("apply_requirements", new ListSchema(
                    "What an `airlock apply` comment needs: approved (every plan has its approvals), mergeable, up_to_date (head contains the base tip).",
                    OneOf("Requirement.", "approved", "mergeable", "up_to_date")), @default: "[approved, mergeable, up_to_date]"))));
    }
}
