using System.Threading.Channels;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Server.GitHub;

/// <summary>What a webhook asks for.</summary>
public enum GitHubCommand
{
    /// <summary>Plan the affected stacks at the pull request's head.</summary>
    Plan,

    /// <summary>Approve the head's plans as the sender's mapped identity.</summary>
    Approve,

    /// <summary>Check the apply requirements and apply the head's plans.</summary>
    Apply,
}

/// <summary>One unit of webhook work.</summary>
/// <param name="Command">What to do.</param>
/// <param name="PullRequest">The pull request number.</param>
/// <param name="Sender">The GitHub login that asked (commenter, reviewer, or the pull request's pusher).</param>
/// <param name="Commit">For a review: the commit it approved (must still be the head).</param>
/// <param name="Delivery">GitHub's delivery id, for logs.</param>
public sealed record GitHubWork(GitHubCommand Command, int PullRequest, string Sender, string? Commit, string? Delivery);

/// <summary>
/// The in-process inbox (a bounded queue) between the webhook endpoint (which acknowledges at once) and the worker that plans,
/// approves and applies. Bounded: when it is full the endpoint answers 503 and GitHub shows the failed delivery.
/// </summary>
public sealed class GitHubInbox
{
    private readonly Channel<GitHubWork> _channel = Channel.CreateBounded<GitHubWork>(new BoundedChannelOptions(256) { SingleReader = true });

    /// <summary>Queues <paramref name="work"/>; false when the queue is full.</summary>
    public bool TryEnqueue(GitHubWork work) => _channel.Writer.TryWrite(work);

    /// <summary>The queued work, in arrival order.</summary>
    public IAsyncEnumerable<GitHubWork> ReadAllAsync(CancellationToken cancellationToken) => _channel.Reader.ReadAllAsync(cancellationToken);
}

/// <summary>
/// Drains <see cref="GitHubInbox"/> one item at a time (so two events of one pull request never race), each in
/// its own DI scope. A failure is logged and reported on the pull request; the worker goes on with the next item.
/// </summary>
internal sealed class GitHubWorker(GitHubInbox queue, GitHubFlowSettings settings, IServiceScopeFactory scopes, ILogger<GitHubWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Say which variable is missing (never a value), so a silent pull request has an explanation in the log.
        if (settings.Token is null)
        {
            log.LogWarning("GitHub flow: {Variable} is not set; calls to the GitHub API will be refused", settings.Config?.TokenEnv);
        }

        if (settings.WebhookSecret is null)
        {
            log.LogWarning("GitHub flow: {Variable} is not set; every webhook is refused", settings.Config?.WebhookSecretEnv);
        }

        await foreach (var work in queue.ReadAllAsync(stoppingToken))
        {
            using var scope = scopes.CreateScope();
            using var logScope = log.BeginScope(new Dictionary<string, object?> { ["pull_request"] = work.PullRequest, ["delivery"] = work.Delivery });
            try
            {
                await scope.ServiceProvider.GetRequiredService<PullRequestFlow>().HandleAsync(work, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One bad event must not stop the worker; the error is logged and reported.
            catch (Exception e)
#pragma warning restore CA1031
            {
                log.LogError(e, "GitHub {Command} of #{PullRequest} failed", work.Command, work.PullRequest);
            }
        }
    }
}
