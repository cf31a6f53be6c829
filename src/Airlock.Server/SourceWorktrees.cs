using Airlock.Application;
using Airlock.Application.Workspace;

namespace Airlock.Server;

/// <summary>
/// A commit of the server's workspace repository checked out for planning in its own detached worktree, so the
/// server's checkout never moves: the GitHub flow's pull-request heads (.airlock/pulls/) and the API's planned
/// commits (.airlock/commits/). Governance (who approves) always comes from the server's own airlock.yaml.
/// </summary>
internal static class SourceWorktrees
{
    /// <summary>
    /// The services over a worktree of <paramref name="commit"/> at <paramref name="worktree"/> (reused when it is
    /// already one at that commit), rooted where the workspace sits inside the repository.
    /// </summary>
    public static async Task<AirlockServices> CheckOutAsync(AirlockServices services, string worktree, string commit, CancellationToken cancellationToken)
    {
        await services.Git.AddWorktreeAsync(worktree, commit, cancellationToken);
        var relative = Path.GetRelativePath(await services.Git.TopLevelAsync(cancellationToken) ?? services.Workspace.Root, services.Workspace.Root);
        return services.ForSourceTree(Path.GetFullPath(Path.Combine(worktree, relative)));
    }

    /// <summary>
    /// Refuses when <paramref name="stack"/> in <paramref name="environment"/> is new in <paramref name="source"/> or its
    /// approval rules differ there from the server's: approvals are checked against the server's airlock.yaml, so the
    /// source being judged must not change the rules it is judged by. <paramref name="where"/> names the source
    /// ("in this pull request"), <paramref name="subject"/> the same as a sentence's subject ("this pull request").
    /// </summary>
    public static void CheckGovernanceUnchanged(AirlockWorkspace server, AirlockWorkspace source, string stack, string environment, string where, string subject)
    {
        if (server.Config.FindStack(stack) is not { } serverStack || server.Config.FindEnvironment(environment) is not { } serverEnvironment)
        {
            throw new RefusedException($"{stack} in {environment} is new {where}; its approval rules must come from the base branch: merge its definition on its own first");
        }

        if (server.ApprovalPolicyVersion(serverStack, serverEnvironment) != source.ApprovalPolicyVersion(source.Stack(stack), source.Environment(environment)))
        {
            throw new RefusedException($"{subject} changes who approves {stack} in {environment} (approvals, owners or teams in airlock.yaml): merge that change on its own first");
        }
    }
}
