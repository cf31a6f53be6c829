using System.Globalization;
using System.Text.Json.Nodes;

using Airlock.Application.Engines;
using Airlock.Application.Workspace;
using Airlock.Domain.Config;
using Airlock.Domain.Evidence;
using Airlock.Domain.Failures;
using Airlock.Domain.Plans;
using Airlock.Domain.Policy;
using Airlock.Domain.Storage;
using Airlock.Engines;
using Airlock.Engines.Processes;

using EvidenceRunEvent = Airlock.Domain.Evidence.RunEvent;

namespace Airlock.Application.Plans;

/// <summary>A plan request: which stack, where (environment and, for waved environments, region), by whom.</summary>
/// <param name="Stack">The stack.</param>
/// <param name="Environment">The environment.</param>
/// <param name="Actor">Who plans.</param>
/// <param name="Region">The target region: required in an environment with waves, else optional (its single region).</param>
/// <param name="RevertOf">Set when the plan reverts a release's infrastructure: the services then work on that release's revert worktree.</param>
/// <param name="PullRequest">Set when the plan is of a pull request's head: the services then work on that head's worktree (.airlock/pulls/).</param>
/// <param name="InCommitWorktree">Set when the plan is of a commit named through the server's API: the services then work on that commit's worktree (.airlock/commits/).</param>
public sealed record PlanRequest(string Stack, string Environment, string Actor, string? Region = null, string? RevertOf = null, int? PullRequest = null, bool InCommitWorktree = false);

/// <summary>A stored plan: its record, metadata (region and inputs digest included), summary and plan-time policy.</summary>
public sealed record PlanOutcome(PlanRecord Record, PlanMetadata Metadata, PlanSummary Summary, PolicyResult Policy);

/// <summary>An engine step failed; carries the classifier's verdict (exit code 1).</summary>
public sealed class EngineFailedException(string step, FailureVerdict verdict) : Exception($"{step} failed ({verdict.Class.ToWireName()}): {verdict.Statement}")
{
    /// <summary>The classifier's verdict.</summary>
    public FailureVerdict Verdict { get; } = verdict;
}

/// <summary>
/// <c>airlock plan</c>: runs the engine plan for the current commit, summarises it, evaluates
/// plan-time policy, and stores the artifact encrypted with everything the approval and the apply
/// are later bound to.
/// </summary>
public sealed class PlanService(AirlockServices services)
{
    /// <summary>Plans <paramref name="request"/>; tool output streams to <paramref name="sink"/>.</summary>
    public async Task<PlanOutcome> PlanAsync(PlanRequest request, IOutputSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var workspace = services.Workspace;
        var stack = workspace.Stack(request.Stack);
        var environment = workspace.Environment(request.Environment);
        if (!stack.IsEnabledIn(environment.Name))
        {
            throw new UserInputException($"stack '{stack.Name}' is not enabled in environment '{environment.Name}' (its environments: {string.Join(", ", stack.Environments ?? [])})");
        }

        var region = AirlockWorkspace.TargetRegion(stack, environment, request.Region);
        services.Store.Plans.EnsureKeyAvailable();

        var source = await services.Git.SnapshotAsync(cancellationToken);
        if (source.Dirty && NeedsApproval(environment))
        {
            throw new RefusedException($"the working tree has uncommitted changes; {environment.Name} needs approvals, and approvals bind to a commit: commit first");
        }

        var baseBranch = await services.Git.BaseBranchAsync(cancellationToken);
        var baseCommit = baseBranch is null ? null : await services.Git.ResolveAsync(baseBranch, cancellationToken);
        var planId = AirlockServices.NewId("plan");
        var artifactDirectory = Path.Combine(workspace.StateDirectory, "work", planId);
        try
        {
            var identity = services.Engines.ResolveIdentity(stack, environment);
            var inputs = await services.Inputs.ResolveAsync(stack, environment, region, cancellationToken);
            var engine = services.Engines.Create(
                new EngineTarget(stack, environment, planId, source.Commit, inputs.Json, identity, region, inputs.SensitiveNames),
                sink);
            var (tool, state, artifact, json) = await RunEngineAsync(engine, artifactDirectory, cancellationToken);
            PlanSummary summary;
            await using (var stream = json.OpenRead())
            {
                summary = PlanReader.Read(stream, workspace.ResourceClasses);
            }

            var now = services.Time.GetUtcNow();
            var freeze = await services.Store.Freezes.ActiveAsync(environment.Name, cancellationToken);
            var context = new PolicyContext(PolicyPhase.Plan, workspace.Config, stack, environment, summary, request.Actor, now, now, IncidentFreeze: freeze?.Reason);
            var policy = services.Policy.Evaluate(context, [], cancellationToken);
            var metadata = new PlanMetadata
            {
                Requester = request.Actor,
                Repository = source.Repository,
                Branch = source.Branch,
                BaseBranch = baseBranch,
                BaseCommit = baseCommit,
                Dirty = source.Dirty,
                Mode = environment.Plan.Mode == PlanMode.Saved ? "saved" : "replan",
                Engine = engine.Kind,
                ToolVersion = $"{tool.Tool} {tool.Version}",
                StateSerial = state.Serial,
                StateLineage = state.Lineage,
                DependencyLockDigest = artifact.DependencyLockDigest,
                Account = stack.Account ?? environment.Account,
                Region = region,
                IdentityProfile = EngineFactory.IdentityProfile(stack, environment),
                ApprovalPolicyVersion = workspace.ApprovalPolicyVersion(stack, environment),
                PolicyDigest = policy.Digest,
                Policy = policy.ToJson(),
                Summary = PlanSummaryJson.ToJson(summary),
                PlanFile = artifact.PlanFile is { } planFile ? Path.GetFileName(planFile) : null,
                PlanJsonFile = Path.GetRelativePath(artifactDirectory, json.FilePath),
                EventLogFile = artifact.EventLogFile is { } log ? Path.GetFileName(log) : null,
                HasChanges = summary.HasChanges,
                GuardedDestroys = BuiltInRules.GuardedDestroys(workspace.Config, environment, summary),
                InputsDigest = inputs.IsEmpty ? null : inputs.Digest,
                InputDigests = inputs.IsEmpty ? null : inputs.Digests,
                InputSources = inputs.IsEmpty ? null : inputs.Sources,
                RevertOf = request.RevertOf,
                PullRequest = request.PullRequest,
                SourceRoot = request.RevertOf is null && request.PullRequest is null && !request.InCommitWorktree ? null : workspace.Root,
            };
            var record = await services.Store.Plans.SaveAsync(
                new NewPlan(planId, stack.Name, environment.Name, source.Commit, PlanSummaryJson.Digest(summary), now + environment.Plan.MaxAge, metadata.ToJson(), region),
                PlanArtifactArchive.Pack(artifactDirectory),
                cancellationToken);
            var planned = new Dictionary<string, string>
            {
                ["plan_digest"] = record.PlanDigest,
                ["commit"] = source.Commit,
                ["revert_of"] = request.RevertOf ?? "",
                ["policy_decision"] = policy.Decision.ToString().ToLowerInvariant(),
                ["policy_digest"] = policy.Digest,
                ["expires_at"] = record.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
            };
            if (region is not null)
            {
                planned["region"] = region;
            }

            if (request.PullRequest is { } pull)
            {
                planned["pull_request"] = pull.ToString(CultureInfo.InvariantCulture);
            }

            if (!inputs.IsEmpty)
            {
                // The digest and where the inputs came from: never their values, some may be secrets.
                planned["inputs_digest"] = inputs.Digest;
                planned["inputs_from"] = string.Join(",", inputs.Sources.Values.Order(StringComparer.Ordinal));
            }

            await services.Evidence.RecordEventAsync(
                new EvidenceRunEvent(planId, "planned", stack.Name, environment.Name, request.Actor, now, planned), cancellationToken);
            return new PlanOutcome(record, metadata, summary, policy);
        }
        finally
        {
            TryDelete(artifactDirectory);
        }
    }

    /// <summary>True when the environment asks for any approval.</summary>
    public static bool NeedsApproval(EnvironmentConfig environment) =>
        environment.Approvals.Required > 0 || !environment.Approvals.Roles.IsEmpty;

    private static async Task<(ToolVersion Tool, StateVersion State, PlanArtifact Artifact, PlanJson Json)> RunEngineAsync(IEngine engine, string artifactDirectory, CancellationToken cancellationToken)
    {
        try
        {
            await engine.InitAsync(cancellationToken);
            var tool = await engine.GetVersionAsync(cancellationToken);
            var state = await engine.GetStateVersionAsync(cancellationToken);
            var artifact = await engine.PlanAsync(artifactDirectory, cancellationToken);
            var json = await engine.ShowAsync(artifact, cancellationToken);
            return (tool, state, artifact, json);
        }
        catch (EngineStepFailedException e)
        {
            throw new EngineFailedException(e.Operation, FailureClassifier.Classify(e.ToObservation()));
        }
        catch (EngineConfigurationException e)
        {
            throw new UserInputException(e.Message);
        }
    }

    internal static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover work directory holds nothing the store does not.
        }
    }
}
