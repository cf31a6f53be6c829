using System.Globalization;
using System.Text;

using Airlock.Application;
using Airlock.Application.Apply;
using Airlock.Application.Approvals;
using Airlock.Application.Graph;
using Airlock.Application.Plans;
using Airlock.Application.Views;
using Airlock.Application.Workspace;
using Airlock.Domain.Config;
using Airlock.Domain.Graph;
using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;

using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace Airlock.Server.GitHub;

/// <summary>One (stack, environment, region) a pull request plans.</summary>
internal sealed record PullTarget(string Stack, string Environment, string? Region)
{
    public string Describe() => $"`{Stack}` in `{Environment}`" + (Region is null ? "" : $" ({Region})");
}

/// <summary>A pull request's head checked out for Airlock: its worktree, the services over it and what it affects.</summary>
internal sealed record PullHead(PullRequestInfo PullRequest, string BaseCommit, AirlockServices Source, IReadOnlyList<PullTarget> Targets);

/// <summary>
/// The pull-request flow (DESIGN.md §7, issue 8 part 4): plan the affected stacks at the head and comment each plan
/// with a commit status; approve the head's plans as a reviewer's mapped identity through <see cref="ApprovalService"/>;
/// apply them through <see cref="IApplyLauncher"/> once the configured apply requirements hold. Every refusal is a
/// comment with its one-line reason. Governance (who approves) always comes from the server's own airlock.yaml,
/// never from the pull request being judged.
/// </summary>
internal sealed class PullRequestFlow(
    AirlockServices services,
    GitHubClient github,
    GitHubFlowSettings settings,
    InProcessApplyLauncher launcher,
    IServer server,
    ILogger<PullRequestFlow> log)
{
    private const string PlanContext = "airlock/plan";
    private const string ApplyContext = "airlock/apply";

    private GitHubConfig Config => settings.Config!;

    /// <summary>Does what <paramref name="work"/> asks.</summary>
    public async Task HandleAsync(GitHubWork work, CancellationToken cancellationToken)
    {
        log.LogInformation("GitHub {Command} of #{PullRequest} by {Sender}", work.Command, work.PullRequest, work.Sender);
        try
        {
            switch (work.Command)
            {
                case GitHubCommand.Plan:
                    await PlanAsync(work, cancellationToken);
                    break;
                case GitHubCommand.Approve:
                    await ApproveAsync(work, cancellationToken);
                    break;
                default:
                    await ApplyAsync(work, cancellationToken);
                    break;
            }
        }
        catch (Exception e) when (e is UserInputException or RefusedException)
        {
            await github.CommentAsync(work.PullRequest, $"**Airlock** did not {Verb(work.Command)}: {OneLine(e.Message)}", cancellationToken);
        }
    }

    private async Task PlanAsync(GitHubWork work, CancellationToken cancellationToken)
    {
        var pr = await OpenPullRequestAsync(work.PullRequest, cancellationToken);
        var head = await CheckOutAsync(pr, cancellationToken);
        if (head.Targets.Count == 0)
        {
            await github.SetStatusAsync(pr.HeadSha, "success", PlanContext, "no stack changed: nothing to plan", null, cancellationToken);
            return;
        }

        await github.SetStatusAsync(pr.HeadSha, "pending", PlanContext, $"planning {head.Targets.Count} target(s)", null, cancellationToken);
        // The change's author requests the plan, whoever asked for it, so the author can never approve it.
        var requester = Config.ActorFor(pr.Author) ?? "github:" + pr.Author;
        var planned = new List<PlanOutcome>();
        var problems = new List<string>();
        foreach (var target in head.Targets)
        {
            try
            {
                SourceWorktrees.CheckGovernanceUnchanged(services.Workspace, head.Source.Workspace, target.Stack, target.Environment, "in this pull request", "this pull request");
                var outcome = await new PlanService(head.Source).PlanAsync(
                    new PlanRequest(target.Stack, target.Environment, requester, target.Region, PullRequest: pr.Number), NullOutputSink.Instance, cancellationToken);
                planned.Add(outcome);
                await github.CommentAsync(pr.Number, await PlanCommentAsync(target, pr, outcome, cancellationToken), cancellationToken);
            }
            catch (Exception e) when (e is UserInputException or RefusedException or EngineFailedException)
            {
                problems.Add($"{target.Stack}/{target.Environment}: {OneLine(e.Message)}");
                await github.CommentAsync(pr.Number, $"#### Airlock could not plan {target.Describe()} at `{Short(pr.HeadSha)}`\n\n{OneLine(e.Message)}\n", cancellationToken);
            }
        }

        var denied = planned.Where(p => p.Policy.Decision == Domain.Policy.PolicyDecision.Deny).Select(p => $"{p.Record.Stack}/{p.Record.Environment}: policy denies").ToList();
        problems.AddRange(denied);
        var changes = planned.Count(p => p.Summary.HasChanges);
        var description = problems.Count > 0
            ? $"{problems.Count} of {head.Targets.Count} failed: {problems[0]}"
            : $"{planned.Count} planned, {changes} with changes";
        await github.SetStatusAsync(pr.HeadSha, problems.Count > 0 ? "failure" : "success", PlanContext, description, planned.Count > 0 ? PlanUrl(planned[0].Record.PlanId) : null, cancellationToken);
    }

    private async Task ApproveAsync(GitHubWork work, CancellationToken cancellationToken)
    {
        var actor = Actor(work.Sender, "approve");
        var pr = await OpenPullRequestAsync(work.PullRequest, cancellationToken);
        if (work.Commit is { } reviewed && !string.Equals(reviewed, pr.HeadSha, StringComparison.OrdinalIgnoreCase))
        {
            throw new RefusedException($"the review approved {Short(reviewed)}, but the head is now {Short(pr.HeadSha)}: review the new head");
        }

        var plans = await HeadPlansAsync(pr, cancellationToken);
        var approvals = new ApprovalService(services);
        var lines = new List<string>();
        foreach (var (target, plan) in plans)
        {
            try
            {
                var result = await approvals.ApproveAsync(new ApproveRequest(plan.PlanId, actor, []), cancellationToken);
                lines.Add($"- {target.Describe()}: approved plan `{plan.PlanId}` as {actor}; " + (result.Verdict.Satisfied ? "approvals complete" : "still needed: " + string.Join("; ", result.Verdict.Problems)));
            }
            catch (Exception e) when (e is RefusedException or UserInputException)
            {
                lines.Add($"- {target.Describe()}: refused for {actor} (@{work.Sender}): {OneLine(e.Message)}");
            }
        }

        await github.CommentAsync(pr.Number, $"#### Airlock approvals by @{work.Sender} at `{Short(pr.HeadSha)}`\n\n{string.Join('\n', lines)}\n", cancellationToken);
    }

    private async Task ApplyAsync(GitHubWork work, CancellationToken cancellationToken)
    {
        var actor = Actor(work.Sender, "apply");
        var pr = await OpenPullRequestAsync(work.PullRequest, cancellationToken);
        var plans = await HeadPlansAsync(pr, cancellationToken);
        var requirements = Config.ApplyRequirements;
        if (requirements.Contains(GitHubApplyRequirement.Mergeable) && pr.Mergeable != true)
        {
            throw new RefusedException(pr.Mergeable is null
                ? "GitHub has not worked out yet whether the pull request is mergeable: try again in a moment"
                : $"the pull request is not mergeable ({pr.MergeableState ?? "conflicts"}): resolve that, plan and approve again");
        }

        if (requirements.Contains(GitHubApplyRequirement.UpToDate))
        {
            var baseTip = await services.Git.ResolveAsync(BaseRef(pr.Number), cancellationToken) ?? pr.BaseSha;
            if (pr.MergeableState == "behind" || !await services.Git.IsAncestorAsync(baseTip, pr.HeadSha, cancellationToken))
            {
                throw new RefusedException($"the head {Short(pr.HeadSha)} is not up to date with {pr.BaseRef} (its tip {Short(baseTip)} is not included): update the branch, plan and approve again");
            }
        }

        if (requirements.Contains(GitHubApplyRequirement.Approved))
        {
            var approvals = new ApprovalService(services);
            foreach (var (target, plan) in plans)
            {
                var verdict = (await approvals.ListAsync(plan.PlanId, cancellationToken)).Verdict;
                if (!verdict.Satisfied)
                {
                    throw new RefusedException($"plan {plan.PlanId} ({target.Stack} in {target.Environment}) is not approved: {string.Join("; ", verdict.Problems)}");
                }
            }
        }

        await github.SetStatusAsync(pr.HeadSha, "pending", ApplyContext, $"applying {plans.Count} plan(s) for {actor}", null, cancellationToken);
        var lines = new List<string>();
        var failed = false;
        foreach (var (target, plan) in plans)
        {
            if (failed)
            {
                lines.Add($"- {target.Describe()}: not started (an earlier apply did not succeed)");
                continue;
            }

            var runId = await launcher.LaunchAsync(plan.PlanId, actor, cancellationToken);
            var run = await services.Store.Runs.GetAsync(runId, cancellationToken);
            var details = await services.Store.Runs.GetDetailsAsync(runId, cancellationToken);
            var state = run?.State ?? "unknown";
            var ok = state == RunState.Succeeded.WireName();
            failed |= !ok && run is not null && RunStates.ParseWireName(state).IsFinal();
            lines.Add($"- {target.Describe()}: run `{runId}` **{state}**" + (details?.Statement is { } statement ? $": {OneLine(statement)}" : ""));
        }

        await github.SetStatusAsync(pr.HeadSha, failed ? "failure" : "success", ApplyContext, failed ? "an apply did not succeed" : $"{plans.Count} plan(s) applied or launched", null, cancellationToken);
        await github.CommentAsync(pr.Number, $"#### Airlock apply by @{work.Sender} ({actor}) at `{Short(pr.HeadSha)}`\n\n{string.Join('\n', lines)}\n", cancellationToken);
    }

    private async Task<PullRequestInfo> OpenPullRequestAsync(int number, CancellationToken cancellationToken)
    {
        var pr = await github.GetPullRequestAsync(number, cancellationToken);
        return pr.State == "open" ? pr : throw new RefusedException($"pull request #{number} is {pr.State}");
    }

    // The head and base are fetched from the configured remote into refs/airlock/pull/N/*, and the head is
    // checked out in its own worktree under .airlock/pulls/, so the server's own checkout never moves.
    private async Task<PullHead> CheckOutAsync(PullRequestInfo pr, CancellationToken cancellationToken)
    {
        await services.Git.FetchAsync(Config.Remote, [$"+refs/pull/{pr.Number}/head:refs/airlock/pull/{pr.Number}/head", $"+refs/heads/{pr.BaseRef}:{BaseRef(pr.Number)}"], cancellationToken);
        if (await services.Git.ResolveAsync(pr.HeadSha, cancellationToken) is null)
        {
            throw new RefusedException($"the head {Short(pr.HeadSha)} was not fetched from {Config.Remote} (pushed again meanwhile?): the next push plans again");
        }

        var baseCommit = await services.Git.ResolveAsync(BaseRef(pr.Number), cancellationToken) ?? pr.BaseSha;
        var worktree = Path.Combine(services.Workspace.PullsDirectory, $"pr-{pr.Number}-{pr.HeadSha[..Math.Min(12, pr.HeadSha.Length)]}");
        var source = await SourceWorktrees.CheckOutAsync(services, worktree, pr.HeadSha, cancellationToken);

        var config = source.Workspace.Config;
        var changes = await CommitChanges.FindAsync(source.Workspace.Root, pr.HeadSha, baseCommit, cancellationToken);
        var changed = ChangedStackDetector.Detect(changes.RepositoryRoot, source.Workspace.Root, config, changes.Files).Select(c => c.Stack);
        var targets = new List<PullTarget>();
        foreach (var impact in StackGraph.From(config, null).Affected(changed))
        {
            var stack = config.Stack(impact.Stack);
            var environments = Config.Environments.IsEmpty ? config.Environments.Select(e => e.Name) : Config.Environments;
            foreach (var name in environments.Where(stack.IsEnabledIn))
            {
                if (config.FindEnvironment(name) is { } environment)
                {
                    targets.AddRange(AirlockWorkspace.Regions(stack, environment).Select(region => new PullTarget(stack.Name, name, region)));
                }
            }
        }

        return new PullHead(pr, baseCommit, source, targets);
    }

    // The head's plans: for every target, the latest plan of that target, which must be this pull request's at
    // its current head (a newer plan elsewhere supersedes it, and approvals bind to the newest plan anyway).
    private async Task<IReadOnlyList<(PullTarget Target, PlanRecord Plan)>> HeadPlansAsync(PullRequestInfo pr, CancellationToken cancellationToken)
    {
        var head = await CheckOutAsync(pr, cancellationToken);
        if (head.Targets.Count == 0)
        {
            throw new RefusedException($"no stack changed at {Short(pr.HeadSha)}: nothing to approve or apply");
        }

        var plans = new List<(PullTarget, PlanRecord)>();
        var missing = new List<string>();
        foreach (var target in head.Targets)
        {
            var plan = await services.Store.Plans.LatestAsync(target.Stack, target.Environment, target.Region, cancellationToken);
            if (plan is not null && plan.Commit == pr.HeadSha && PlanMetadata.FromJson(plan.MetadataJson).PullRequest == pr.Number)
            {
                plans.Add((target, plan));
            }
            else
            {
                missing.Add($"{target.Stack} in {target.Environment}");
            }
        }

        return missing.Count == 0
            ? plans
            : throw new RefusedException($"no current plan of {Short(pr.HeadSha)} for {string.Join(", ", missing)}: comment airlock plan");
    }

    private async Task<string> PlanCommentAsync(PullTarget target, PullRequestInfo pr, PlanOutcome outcome, CancellationToken cancellationToken)
    {
        var verdict = (await new ApprovalService(services).ListAsync(outcome.Record.PlanId, cancellationToken)).Verdict;
        var md = new StringBuilder();
        md.Append("#### Airlock plan: ").Append(target.Describe()).Append(" at `").Append(Short(pr.HeadSha)).Append("`\n\n");
        md.Append("Plan [`").Append(outcome.Record.PlanId).Append("`](").Append(PlanUrl(outcome.Record.PlanId)).Append(") · policy **")
          .Append(outcome.Policy.Decision.ToString().ToLowerInvariant()).Append("** · requested by ").Append(outcome.Metadata.Requester)
          .Append(" · expires ").Append(outcome.Record.ExpiresAt.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)).Append('\n');
        md.Append("Approvals: ").Append(verdict.Satisfied ? "none needed or complete" : string.Join("; ", verdict.Problems)).Append("\n\n");
        const string Trailer = "\nApprove with a pull-request review or `airlock approve`; apply with `airlock apply`.\n";

        // A plan of a few hundred resources renders past GitHub's comment limit: keep what fits, link the rest.
        var room = GitHubClient.MaxCommentLength - md.Length - Trailer.Length;
        md.Append(PlanMarkdown.Render(outcome.Summary, Math.Max(room, PlanMarkdown.MinimumLength), PlanUrl(outcome.Record.PlanId)));
        md.Append(Trailer);
        return md.ToString();
    }

    private string Actor(string login, string what) =>
        Config.ActorFor(login) ?? throw new RefusedException($"@{login} is not mapped to an Airlock identity (github.users or github.user_pattern in airlock.yaml), so may not {what}");

    private string PlanUrl(string planId)
    {
        var root = Config.DashboardUrl
            ?? server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.TrimEnd('/')
            ?? "";
        return $"{root}/plans/{Uri.EscapeDataString(planId)}";
    }

    private static string BaseRef(int number) => $"refs/airlock/pull/{number}/base";

    private static string Verb(GitHubCommand command) => command switch
    {
        GitHubCommand.Plan => "plan",
        GitHubCommand.Approve => "approve",
        _ => "apply",
    };

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
