using System.Text.Json;
using System.Text.Json.Serialization;

namespace Airlock.Domain.Releases;

/// <summary>Where a release stands as a whole.</summary>
public enum ReleaseStatus
{
    /// <summary>A process is driving it.</summary>
    Running,

    /// <summary>Paused at a gate (approvals, change window, freeze); resumable.</summary>
    Waiting,

    /// <summary>Stopped by Ctrl+C or a signal; resumable.</summary>
    Interrupted,

    /// <summary>Every environment it was meant to reach passed.</summary>
    Succeeded,

    /// <summary>A step failed; the release stops where it is (infrastructure is never rolled back).</summary>
    Failed,
}

/// <summary>Progress of one environment, or one wave inside it.</summary>
public enum StageStatus
{
    /// <summary>Not reached yet.</summary>
    Pending,

    /// <summary>Working on it.</summary>
    Running,

    /// <summary>Held at a gate with a visible reason.</summary>
    Waiting,

    /// <summary>Done: health checks kept passing for the bake or soak time.</summary>
    Baking,

    /// <summary>Passed.</summary>
    Succeeded,

    /// <summary>Failed; later stages do not run.</summary>
    Failed,
}

/// <summary>Progress of one stack in one region.</summary>
public enum TargetStatus
{
    /// <summary>Not planned yet.</summary>
    Pending,

    /// <summary>Its plan needs upstream outputs that only exist once the upstream stack is applied.</summary>
    Deferred,

    /// <summary>Planned; the plan proposes changes.</summary>
    Planned,

    /// <summary>Planned; the plan needs approvals that have not all arrived.</summary>
    AwaitingApproval,

    /// <summary>The apply was started (its run id is recorded).</summary>
    Applying,

    /// <summary>Applied and verified.</summary>
    Applied,

    /// <summary>The plan proposed no changes: nothing to apply.</summary>
    Unchanged,

    /// <summary>Planning or applying failed.</summary>
    Failed,

    /// <summary>Not run because something it depends on failed.</summary>
    Skipped,
}

/// <summary>Progress of one application deployment in one region.</summary>
public enum AppStatus
{
    /// <summary>Not started.</summary>
    Pending,

    /// <summary>Deploying (re-run on resume: deploy commands must be idempotent).</summary>
    Deploying,

    /// <summary>The new version serves and is healthy.</summary>
    Live,

    /// <summary>Health failed; the previous version was restored.</summary>
    RolledBack,

    /// <summary>Failed and nothing could be rolled back.</summary>
    Failed,

    /// <summary>Not run because infrastructure failed.</summary>
    Skipped,
}

/// <summary>
/// Everything a release has done and still has to do, persisted after every step so that
/// <c>airlock release resume</c> continues from the last completed one. Pure data plus the small
/// rules that decide what comes next; the orchestrator in Application does the work.
/// </summary>
public sealed class ReleaseProgress
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Application version this release ships (e.g. v1.4.2).</summary>
    public required string Version { get; init; }

    /// <summary>The commit every environment gets.</summary>
    public required string Commit { get; init; }

    /// <summary>The infrastructure version: a tag on the commit, else its short hash.</summary>
    public required string InfraVersion { get; init; }

    /// <summary>Who started it.</summary>
    public required string Actor { get; init; }

    /// <summary>The last environment to reach, or null for the whole promotion chain.</summary>
    public string? Through { get; init; }

    /// <summary>Why each stack runs (changed files, module, dependant, all).</summary>
    public List<StackReason> Stacks { get; init; } = [];

    /// <summary>Set when the canary bake was skipped in an emergency.</summary>
    public EmergencySkip? SkipCanaryWait { get; set; }

    /// <summary>The application artifact, built once for the whole release.</summary>
    public ArtifactProgress Artifact { get; init; } = new();

    /// <summary>Environments in promotion order.</summary>
    public List<EnvironmentProgress> Environments { get; init; } = [];

    /// <summary>What happened, in order.</summary>
    public List<TimelineEntry> Timeline { get; init; } = [];

    /// <summary>One line: why the release waits, failed or succeeded.</summary>
    public string? Statement { get; set; }

    /// <summary>The environment being worked on (the first not yet succeeded), or null when all passed.</summary>
    [JsonIgnore]
    public EnvironmentProgress? Current => Environments.FirstOrDefault(e => e.Status != StageStatus.Succeeded);

    /// <summary>Adds a timeline entry.</summary>
    public void Note(DateTimeOffset at, string message) => Timeline.Add(new TimelineEntry(at, message));

    /// <summary>Serialises for the store.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    /// <exception cref="JsonException">The text is not a release progress document.</exception>
    public static ReleaseProgress FromJson(string json) =>
        JsonSerializer.Deserialize<ReleaseProgress>(json, Json) ?? throw new JsonException("release detail is null");
}

/// <summary>A stack the release runs and why.</summary>
public sealed record StackReason(string Stack, string Reason);

/// <summary>An emergency skip of the canary bake: who, when and under which ticket.</summary>
public sealed record EmergencySkip(string Ticket, string Actor, DateTimeOffset At);

/// <summary>A line in the release's timeline.</summary>
public sealed record TimelineEntry(DateTimeOffset At, string Message);

/// <summary>The build-once artifact.</summary>
public sealed class ArtifactProgress
{
    /// <summary>Where the build put it.</summary>
    public string? Directory { get; set; }

    /// <summary>The build command succeeded.</summary>
    public bool Built { get; set; }

    /// <summary>The test command succeeded.</summary>
    public bool Tested { get; set; }
}

/// <summary>One environment of a release.</summary>
public sealed class EnvironmentProgress
{
    /// <summary>The environment.</summary>
    public required string Name { get; init; }

    /// <summary>Where it stands.</summary>
    public StageStatus Status { get; set; }

    /// <summary>Why it waits or failed, for everyone to see.</summary>
    public string? Reason { get; set; }

    /// <summary>When the soak ends (set when it starts, so a resumed release soaks only what is left).</summary>
    public DateTimeOffset? SoakUntil { get; set; }

    /// <summary>Waves in order; an environment without waves has one wave with its single region.</summary>
    public List<WaveProgress> Waves { get; init; } = [];

    /// <summary>Every stack target of the environment.</summary>
    [JsonIgnore]
    public IEnumerable<TargetProgress> Targets => Waves.SelectMany(w => w.Targets);
}

/// <summary>One wave: regions rolled out together, then baked.</summary>
public sealed class WaveProgress
{
    /// <summary>The wave's name (the environment's name when it has no waves).</summary>
    public required string Name { get; init; }

    /// <summary>Its regions (one null region when the environment has none).</summary>
    public List<string?> Regions { get; init; } = [];

    /// <summary>How many regions roll out at once.</summary>
    public int MaxParallel { get; init; } = 1;

    /// <summary>Bake time under health checks before the next wave.</summary>
    public TimeSpan Bake { get; init; }

    /// <summary>Where it stands.</summary>
    public StageStatus Status { get; set; }

    /// <summary>When the bake ends (persisted so a resume bakes only the rest).</summary>
    public DateTimeOffset? BakeUntil { get; set; }

    /// <summary>Stacks per region.</summary>
    public List<TargetProgress> Targets { get; init; } = [];

    /// <summary>Application deployments per region.</summary>
    public List<AppProgress> Apps { get; init; } = [];
}

/// <summary>One stack in one region.</summary>
public sealed class TargetProgress
{
    /// <summary>The stack.</summary>
    public required string Stack { get; init; }

    /// <summary>The region, or null.</summary>
    public string? Region { get; init; }

    /// <summary>Where it stands.</summary>
    public TargetStatus Status { get; set; }

    /// <summary>The plan being applied.</summary>
    public string? PlanId { get; set; }

    /// <summary>The apply run, once started.</summary>
    public string? RunId { get; set; }

    /// <summary>Short change counts or the failure reason.</summary>
    public string? Detail { get; set; }

    /// <summary>"stack" or "stack@region".</summary>
    [JsonIgnore]
    public string Label => Region is null ? Stack : $"{Stack}@{Region}";
}

/// <summary>One application deployment in one region.</summary>
public sealed class AppProgress
{
    /// <summary>The application.</summary>
    public required string App { get; init; }

    /// <summary>The region, or null.</summary>
    public string? Region { get; init; }

    /// <summary>Where it stands.</summary>
    public AppStatus Status { get; set; }

    /// <summary>The deployment record (traceability).</summary>
    public long? DeploymentId { get; set; }

    /// <summary>The colour now live (blue-green).</summary>
    public string? Color { get; set; }

    /// <summary>Values the deploy wrote to $AIRLOCK_OUTPUTS (not secrets by contract), for soak checks.</summary>
    public Dictionary<string, string> Outputs { get; init; } = [];

    /// <summary>What happened.</summary>
    public string? Detail { get; set; }

    /// <summary>"app" or "app@region".</summary>
    [JsonIgnore]
    public string Label => Region is null ? App : $"{App}@{Region}";
}
