using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Plans;
using Airlock.Domain.Storage;

namespace Airlock.Server.Tests;

/// <summary>
/// The GitHub pull-request flow end to end: signed webhooks (real octokit example payloads) to a real replica, a
/// real git remote, real plans and applies of the getting-started stack, and a fake GitHub API that checks every call.
/// </summary>
public sealed class GitHubFlowTests
{
    [Fact]
    public async Task A_missing_or_wrong_signature_is_401_and_nothing_is_done()
    {
        await using var scenario = await PullRequestScenario.StartAsync();
        var unsigned = await scenario.SendAsync("pull_request", scenario.Opened(), secret: null);
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        var forged = await scenario.SendAsync("pull_request", scenario.Opened(), secret: "not the secret");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Contains("X-Hub-Signature-256", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A signed ping proves the endpoint works; the refused events queued nothing, so GitHub heard nothing.
        var ping = await scenario.SendAsync("ping", PullRequestScenario.Fixture("ping"));
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal("pong", (string?)(await ping.Content.ReadFromJsonAsync<JsonObject>())!["status"]);
        await Task.Delay(500);
        Assert.Empty(scenario.Api.Requests);
        Assert.Null(await scenario.Server.Host.Services.Store.Plans.LatestAsync("site", "dev", CancellationToken.None));
    }

    [Fact]
    public async Task An_opened_pull_request_is_planned_at_its_head_with_one_comment_per_target_and_a_status()
    {
        await using var scenario = await PullRequestScenario.StartAsync();
        var response = await scenario.SendAsync("pull_request", scenario.Opened());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var status = await scenario.Api.WaitForFinalStatusAsync("airlock/plan");
        Assert.Equal("success", (string?)status["state"]);
        var (dev, prod) = await HeadPlansAsync(scenario);
        Assert.Equal(scenario.Server.BaseAddress + "plans/" + dev.PlanId, (string?)status["target_url"]);
        var comments = scenario.Api.Comments;
        Assert.Equal(2, comments.Count);
        Assert.Contains(comments, c => c.Contains("#### Airlock plan: `site` in `dev`", StringComparison.Ordinal) && c.Contains(dev.PlanId, StringComparison.Ordinal));
        var prodComment = Assert.Single(comments, c => c.Contains("#### Airlock plan: `site` in `prod`", StringComparison.Ordinal));
        Assert.Contains(prod.PlanId, prodComment, StringComparison.Ordinal);
        Assert.Contains("### Plan: ", prodComment, StringComparison.Ordinal); // the shared markdown rendering
        Assert.Contains("local_file.index_html", prodComment, StringComparison.Ordinal);
        Assert.All(scenario.Api.Requests, r => Assert.StartsWith($"/repos/{PullRequestScenario.Repository}/", r.Path, StringComparison.Ordinal));
        Assert.Contains(scenario.Api.Requests, r => r.Path.EndsWith("/statuses/" + scenario.HeadSha, StringComparison.Ordinal));
        Assert.Empty(scenario.Api.Violations);
    }

    [Fact]
    public async Task An_airlock_plan_comment_plans_the_head_comments_each_plan_and_sets_a_status()
    {
        await using var scenario = await PullRequestScenario.StartAsync();
        var store = scenario.Server.Host.Services.Store;
        Assert.Null(await store.Plans.LatestAsync("site", "dev", CancellationToken.None));

        // No pull_request event: the comment alone asks for the plan, and the pull request is read from GitHub.
        var response = await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("octocat", "airlock plan"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var status = await scenario.Api.WaitForFinalStatusAsync("airlock/plan");
        Assert.Equal("success", (string?)status["state"]);
        Assert.Contains(scenario.Api.Requests, r => r.Method == "GET" && r.Path.EndsWith($"/pulls/{PullRequestScenario.Number}", StringComparison.Ordinal));

        var (dev, prod) = await HeadPlansAsync(scenario); // the author requests them, not octocat who asked
        Assert.Equal(scenario.Server.BaseAddress + "plans/" + dev.PlanId, (string?)status["target_url"]);
        Assert.Contains(scenario.Api.Statuses, s => (string?)s["context"] == "airlock/plan" && (string?)s["state"] == "pending");
        Assert.Contains(scenario.Api.Requests, r => r.Path.EndsWith("/statuses/" + scenario.HeadSha, StringComparison.Ordinal));
        var comments = scenario.Api.Comments;
        Assert.Equal(2, comments.Count);
        Assert.Contains(comments, c => c.Contains("#### Airlock plan: `site` in `dev`", StringComparison.Ordinal) && c.Contains(dev.PlanId, StringComparison.Ordinal));
        var prodComment = Assert.Single(comments, c => c.Contains("#### Airlock plan: `site` in `prod`", StringComparison.Ordinal));
        Assert.Contains(prod.PlanId, prodComment, StringComparison.Ordinal);
        Assert.Contains("local_file.index_html", prodComment, StringComparison.Ordinal);

        // Since the author requested it, the commenter may approve the plan the comment made.
        await scenario.SendAsync("pull_request_review", scenario.Review("octocat"));
        Assert.Contains("approved plan `" + prod.PlanId + "` as alice@example.com", await scenario.Api.WaitForCommentAsync("Airlock approvals by @octocat"), StringComparison.Ordinal);
        Assert.Empty(scenario.Api.Violations);
    }

    [Fact]
    public async Task A_review_by_a_mapped_eligible_reviewer_approves_and_the_authors_own_approval_is_refused_with_a_comment()
    {
        await using var scenario = await PullRequestScenario.StartAsync();
        await scenario.SendAsync("pull_request", scenario.Opened());
        await scenario.Api.WaitForFinalStatusAsync("airlock/plan");
        var store = scenario.Server.Host.Services.Store;
        var prod = (await store.Plans.LatestAsync("site", "prod", CancellationToken.None))!;

        Assert.Equal(HttpStatusCode.Accepted, (await scenario.SendAsync("pull_request_review", scenario.Review("octocat"))).StatusCode);
        var approved = await scenario.Api.WaitForCommentAsync("Airlock approvals by @octocat");
        Assert.Contains("approved plan `" + prod.PlanId + "` as alice@example.com", approved, StringComparison.Ordinal);
        var decisions = await store.Approvals.ListForPlanAsync(prod.PlanId, CancellationToken.None);
        Assert.Equal("alice@example.com", Assert.Single(decisions).Approver);

        // The author (Codertocat → bob) asks to approve his own change: refused, said so, nothing stored.
        Assert.Equal(HttpStatusCode.Accepted, (await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("Codertocat", "airlock approve"))).StatusCode);
        var refused = await scenario.Api.WaitForCommentAsync("Airlock approvals by @Codertocat");
        Assert.Contains("refused for bob@example.com", refused, StringComparison.Ordinal);
        Assert.Single(await store.Approvals.ListForPlanAsync(prod.PlanId, CancellationToken.None));

        // A review of an earlier commit approves nothing: approvals bind to the head that was planned.
        await scenario.SendAsync("pull_request_review", scenario.Review("hubot", commit: new string('a', 40)));
        Assert.Contains("review the new head", await scenario.Api.WaitForCommentAsync("did not approve"), StringComparison.Ordinal);
        Assert.Single(await store.Approvals.ListForPlanAsync(prod.PlanId, CancellationToken.None));

        // Someone GitHub knows but airlock.yaml does not map may not approve either.
        await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("mallory", "airlock approve"));
        Assert.Contains("not mapped to an Airlock identity", await scenario.Api.WaitForCommentAsync("@mallory"), StringComparison.Ordinal);
        Assert.Single(await store.Approvals.ListForPlanAsync(prod.PlanId, CancellationToken.None));
        Assert.Empty(scenario.Api.Violations);
    }

    [Fact]
    public async Task Apply_is_refused_while_the_pull_request_is_not_mergeable_not_up_to_date_or_not_approved()
    {
        await using var scenario = await PullRequestScenario.StartAsync();
        await scenario.SendAsync("pull_request", scenario.Opened());
        await scenario.Api.WaitForFinalStatusAsync("airlock/plan");
        var runs = scenario.Server.Host.Services.Store.Runs;

        scenario.ServePullRequest(mergeable: false, mergeableState: "dirty");
        await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("octocat", "airlock apply"));
        Assert.Contains("not mergeable", await scenario.Api.WaitForCommentAsync("did not apply"), StringComparison.Ordinal);

        scenario.ServePullRequest(mergeable: true, mergeableState: "clean");
        await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("octocat", "airlock apply"));
        Assert.Contains("is not approved", (await scenario.Api.WaitForAsync(r => ((string?)r.Body?["body"])?.Contains("did not apply", StringComparison.Ordinal) == true, 2))[1].Body!["body"]!.ToString(), StringComparison.Ordinal);

        scenario.MoveBase();
        await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("octocat", "airlock apply"));
        var notCurrent = (await scenario.Api.WaitForAsync(r => ((string?)r.Body?["body"])?.Contains("did not apply", StringComparison.Ordinal) == true, 3))[2].Body!["body"]!.ToString();
        Assert.Contains("is not up to date with main", notCurrent, StringComparison.Ordinal);

        Assert.Empty(await runs.ListAsync(new RunQuery(Limit: 10), CancellationToken.None));
        Assert.Empty(scenario.Api.Violations);
    }

    [Fact]
    public async Task Apply_runs_every_plan_of_the_head_once_approved_mergeable_and_up_to_date()
    {
        await using var scenario = await PullRequestScenario.StartAsync();
        await scenario.SendAsync("pull_request", scenario.Opened());
        await scenario.Api.WaitForFinalStatusAsync("airlock/plan");
        // prod needs two people, platform and security, neither the author.
        await scenario.SendAsync("pull_request_review", scenario.Review("octocat"));
        await scenario.Api.WaitForCommentAsync("Airlock approvals by @octocat");
        await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("hubot", "airlock approve"));
        Assert.Contains("approvals complete", await scenario.Api.WaitForCommentAsync("Airlock approvals by @hubot"), StringComparison.Ordinal);

        await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("octocat", "Airlock apply\nplease"));
        var status = await scenario.Api.WaitForFinalStatusAsync("airlock/apply");
        var comment = await scenario.Api.WaitForCommentAsync("Airlock apply by @octocat");
        Assert.Equal("success", (string?)status["state"]);
        Assert.Contains("**succeeded**", comment, StringComparison.Ordinal);

        var runs = await scenario.Server.Host.Services.Store.Runs.ListAsync(new RunQuery(Limit: 10), CancellationToken.None);
        Assert.Equal(["prod", "dev"], runs.Select(r => r.Environment).ToArray()); // newest first: dev, then prod
        Assert.All(runs, r => Assert.Equal("succeeded", r.State));
        var details = await scenario.Server.Host.Services.Store.Runs.GetDetailsAsync(runs[0].Id, CancellationToken.None);
        Assert.Equal("alice@example.com", details!.RequestedBy); // the commenter's identity, not a request field

        // The head's page was deployed from the pull request's own worktree.
        var deployed = Directory.GetFiles(Path.Combine(scenario.Server.Root, ".airlock", "pulls"), "index.html", SearchOption.AllDirectories)
            .Where(f => f.Contains(Path.Combine("target", "prod"), StringComparison.Ordinal)).ToList();
        Assert.Contains("Hello from pull request 2", File.ReadAllText(Assert.Single(deployed)), StringComparison.Ordinal);
        Assert.Empty(scenario.Api.Violations);
    }

    [Fact]
    public async Task A_GitHub_Enterprise_api_url_is_honoured()
    {
        await using var scenario = await PullRequestScenario.StartAsync(apiPrefix: "/api/v3");
        await scenario.SendAsync("pull_request", scenario.Opened());
        Assert.Equal("success", (string?)(await scenario.Api.WaitForFinalStatusAsync("airlock/plan"))["state"]);
        Assert.NotEmpty(scenario.Api.Comments);
        Assert.All(scenario.Api.Requests, r => Assert.StartsWith($"/api/v3/repos/{PullRequestScenario.Repository}/", r.Path, StringComparison.Ordinal));
        Assert.Empty(scenario.Api.Violations);
    }

    [Fact]
    public async Task Events_for_another_repository_and_comments_that_are_not_commands_are_not_acted_on()
    {
        await using var scenario = await PullRequestScenario.StartAsync();
        var other = scenario.Opened();
        other["repository"]!["full_name"] = "someone/else";
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await scenario.SendAsync("pull_request", other)).StatusCode);

        var chat = await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("octocat", "Looks good, but airlock apply later"));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal("ignored", (string?)(await chat.Content.ReadFromJsonAsync<JsonObject>())!["status"]);
        var onIssue = PullRequestScenario.Fixture("issue_comment.created"); // the example is a comment on a plain issue
        onIssue["comment"]!["body"] = "airlock plan";
        Assert.Equal("ignored", (string?)(await (await scenario.SendAsync("issue_comment", onIssue)).Content.ReadFromJsonAsync<JsonObject>())!["status"]);
        var commented = await scenario.SendAsync("pull_request_review", PullRequestScenario.Fixture("pull_request_review.submitted")); // state: commented
        Assert.Equal("ignored", (string?)(await commented.Content.ReadFromJsonAsync<JsonObject>())!["status"]);
        Assert.Empty(scenario.Api.Requests);
    }

    [Fact]
    public async Task A_pull_request_that_changes_who_approves_is_not_planned()
    {
        // The author tries to add himself to security, so that he and a friend could approve prod.
        await using var scenario = await PullRequestScenario.StartAsync(change: git =>
        {
            var path = Path.Combine(git.Root, "airlock.yaml");
            git.Write("airlock.yaml", File.ReadAllText(path).Replace("security: [carol@example.com]", "security: [carol@example.com, bob@example.com]", StringComparison.Ordinal));
        });
        await scenario.SendAsync("pull_request", scenario.Opened());
        var status = await scenario.Api.WaitForFinalStatusAsync("airlock/plan");
        Assert.Equal("failure", (string?)status["state"]);
        Assert.Contains("changes who approves site in prod", await scenario.Api.WaitForCommentAsync("could not plan `site` in `prod`"), StringComparison.Ordinal);
        Assert.Null(await scenario.Server.Host.Services.Store.Plans.LatestAsync("site", "prod", CancellationToken.None));

        // A comment asking for a plan of the same head is refused the same way.
        await scenario.SendAsync("issue_comment", PullRequestScenario.Comment("Codertocat", "airlock plan"));
        await scenario.Api.WaitForAsync(r => ((string?)r.Body?["body"])?.Contains("could not plan `site` in `prod`", StringComparison.Ordinal) == true, 2);
        Assert.Null(await scenario.Server.Host.Services.Store.Plans.LatestAsync("site", "prod", CancellationToken.None));
        Assert.Empty(scenario.Api.Violations);
    }

    [Fact]
    public async Task A_plan_too_long_for_one_comment_is_shortened_to_fit_and_links_the_whole_plan()
    {
        // The pull request's plan script proposes 1,000 creates (one awk process, not a process per file):
        // each plan's table alone is ~85,000 characters, over GitHub's 65,536.
        const int Pages = 1000;
        await using var scenario = await PullRequestScenario.StartAsync(change: git => git.Write("stacks/site/plan.sh", SitePlanScripts.Creates(Pages)));
        await scenario.SendAsync("pull_request", scenario.Opened());

        Assert.Equal("success", (string?)(await scenario.Api.WaitForFinalStatusAsync("airlock/plan"))["state"]);
        var (dev, prod) = await HeadPlansAsync(scenario);
        Assert.Empty(scenario.Api.Violations); // the fake refuses bodies over 65,536 characters, as GitHub does
        foreach (var (environment, plan) in new[] { ("dev", dev), ("prod", prod) })
        {
            var comment = Assert.Single(scenario.Api.Comments, c => c.Contains($"#### Airlock plan: `site` in `{environment}`", StringComparison.Ordinal));
            Assert.InRange(comment.Length, 60_000, 65_536);
            var creates = System.Text.RegularExpressions.Regex.Match(comment, @"### Plan: (\d+) to create");
            Assert.True(creates.Success && int.Parse(creates.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= Pages, comment[..300]);
            Assert.Contains($"changed resources. The whole summary: {scenario.Server.BaseAddress}plans/{plan.PlanId}", comment, StringComparison.Ordinal);
            Assert.Contains("more not listed here |", comment, StringComparison.Ordinal);
            Assert.Contains("<sub>summary digest `sha256:", comment, StringComparison.Ordinal);
            Assert.EndsWith("apply with `airlock apply`.\n", comment, StringComparison.Ordinal);
        }
    }

    // The dev and prod plans the flow made: at the pull request's head, tagged with its number, requested by its author.
    private static async Task<(PlanRecord Dev, PlanRecord Prod)> HeadPlansAsync(PullRequestScenario scenario)
    {
        var store = scenario.Server.Host.Services.Store;
        var dev = await store.Plans.LatestAsync("site", "dev", CancellationToken.None);
        var prod = await store.Plans.LatestAsync("site", "prod", CancellationToken.None);
        Assert.NotNull(dev);
        Assert.NotNull(prod);
        foreach (var plan in new[] { dev, prod })
        {
            Assert.Equal(scenario.HeadSha, plan.Commit);
            var metadata = PlanMetadata.FromJson(plan.MetadataJson);
            Assert.Equal(PullRequestScenario.Number, metadata.PullRequest);
            Assert.Equal("bob@example.com", metadata.Requester); // the author's mapped identity
        }

        return (dev, prod);
    }
}
