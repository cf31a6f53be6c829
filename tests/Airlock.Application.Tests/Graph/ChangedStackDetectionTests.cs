using Airlock.Application.Graph;
using Airlock.Domain.Config;
using Airlock.Domain.Graph;
using Airlock.Testing;

namespace Airlock.Application.Tests.Graph;

/// <summary>
/// Changed-stack detection on real git histories: the workspace lives in platform/ inside the repository,
/// network and database use modules/tagging directly, app uses it through modules/service (JSON syntax).
/// </summary>
public sealed class ChangedStackDetectionTests : IDisposable
{
    private const string Config = """
        version: 1
        project: detect
        environments:
          dev: {}
        stacks:
          network:
            path: infra/network
          database:
            path: infra/database
            depends_on: [network]
          app:
            path: infra/app
            depends_on: [database]
          solo:
            path: infra/solo
        """;

    private readonly GitHistory _repo = new();

    public ChangedStackDetectionTests()
    {
        _repo.Write("README.md", "repository readme\n");
        _repo.Write("platform/airlock.yaml", Config);
        _repo.Write("platform/infra/network/main.tf", """
            module "tags" {
              source = "../../modules/tagging"
            }
            """);
        _repo.Write("platform/infra/database/main.tf", """
            module "tags" { source = "../../modules/tagging" }
            module "rds" { source = "terraform-aws-modules/rds/aws" }
            """);
        _repo.Write("platform/infra/app/main.tf.json", """{ "module": { "svc": { "source": "../../modules/service" } } }""");
        _repo.Write("platform/modules/service/main.tf", """module "inner" { source = "../tagging" }""");
        _repo.Write("platform/modules/tagging/main.tf", """variable "name" {}""");
        _repo.Write("platform/modules/unused/main.tf", """variable "x" {}""");
        _repo.Write("platform/infra/solo/main.tf", """resource "null_resource" "x" {}""");
        _repo.Commit("first");
        _repo.Git("checkout", "-q", "-b", "feature");
    }

    private string Workspace => Path.Combine(_repo.Root, "platform");

    public void Dispose() => _repo.Dispose();

    private static WorkspaceConfig LoadConfig()
    {
        var result = WorkspaceConfigLoader.Load(Config, "airlock.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    private async Task<(CommitChangeSet Changes, List<StackChange> Stacks)> DetectAsync(string? commit = null, string? baseReference = null)
    {
        var changes = await CommitChanges.FindAsync(Workspace, commit, baseReference, CancellationToken.None);
        var stacks = ChangedStackDetector.Detect(changes.RepositoryRoot, Workspace, LoadConfig(), changes.Files);
        return (changes, [.. stacks]);
    }

    [Fact]
    public async Task A_change_in_a_stack_directory_marks_only_that_stack()
    {
        _repo.Write("platform/infra/solo/main.tf", """resource "null_resource" "y" {}""");
        _repo.Commit("solo");

        var (changes, stacks) = await DetectAsync();

        Assert.Equal("main", changes.Base);
        Assert.Equal(["platform/infra/solo/main.tf"], changes.Files);
        var solo = Assert.Single(stacks);
        Assert.Equal(("solo", StackChangeKind.Files), (solo.Stack, solo.Kind));
        Assert.Equal(["infra/solo/main.tf"], solo.Files.ToArray());
        Assert.Equal("changed: infra/solo/main.tf", solo.Reason);
    }

    [Fact]
    public async Task A_shared_local_module_change_marks_every_stack_using_it_even_through_another_module()
    {
        _repo.Write("platform/modules/tagging/main.tf", """variable "name" { default = "x" }""");
        _repo.Commit("tagging");

        var (_, stacks) = await DetectAsync();

        Assert.Equal(["network", "database", "app"], stacks.Select(s => s.Stack));
        Assert.All(stacks, s => Assert.Equal(StackChangeKind.Module, s.Kind));
        Assert.All(stacks, s => Assert.Equal("module modules/tagging changed (modules/tagging/main.tf)", s.Reason));
        var affected = StackGraph.From(LoadConfig(), "dev").Affected(stacks.Select(s => s.Stack));
        Assert.Equal(["network", "database", "app"], affected.Select(a => a.Stack));
    }

    [Fact]
    public async Task A_module_nobody_uses_and_files_outside_the_workspace_mark_nothing()
    {
        _repo.Write("platform/modules/unused/main.tf", """variable "y" {}""");
        _repo.Write("README.md", "changed readme\n");
        _repo.Commit("unrelated");

        var (changes, stacks) = await DetectAsync();

        Assert.Equal(["README.md", "platform/modules/unused/main.tf"], changes.Files.Order(StringComparer.Ordinal));
        Assert.Empty(stacks);
    }

    [Fact]
    public async Task An_airlock_yaml_change_marks_every_stack_and_says_why()
    {
        _repo.Write("platform/airlock.yaml", Config + "\n# reviewed\n");
        _repo.Write("platform/infra/network/variables.tf", """variable "cidr" {}""");
        _repo.Commit("config");

        var (_, stacks) = await DetectAsync();

        Assert.Equal(["network", "database", "app", "solo"], stacks.Select(s => s.Stack));
        Assert.All(stacks, s => Assert.Equal(StackChangeKind.Config, s.Kind));
        Assert.All(stacks, s => Assert.StartsWith("airlock.yaml changed (it configures every stack)", s.Reason, StringComparison.Ordinal));
        Assert.Equal(["infra/network/variables.tf"], stacks[0].Files.ToArray());
    }

    [Fact]
    public async Task An_explicit_commit_and_base_select_the_range()
    {
        _repo.Write("platform/infra/solo/main.tf", """resource "null_resource" "y" {}""");
        var soloCommit = _repo.Commit("solo");
        _repo.Write("platform/infra/network/main.tf", """module "tags" { source = "../../modules/tagging" }""");
        _repo.Commit("network");

        var (upToSolo, soloStacks) = await DetectAsync(commit: soloCommit);
        var (lastOnly, networkStacks) = await DetectAsync(baseReference: "HEAD~1");
        var (_, both) = await DetectAsync(baseReference: "main");

        Assert.Equal(soloCommit, upToSolo.Commit);
        Assert.Equal(["solo"], soloStacks.Select(s => s.Stack));
        Assert.Equal("HEAD~1", lastOnly.Base);
        Assert.Equal(["network"], networkStacks.Select(s => s.Stack));
        Assert.Equal(["network", "solo"], both.Select(s => s.Stack));
    }

    [Fact]
    public async Task A_commit_on_main_itself_is_compared_with_its_parent_and_the_first_commit_with_nothing()
    {
        _repo.Git("checkout", "-q", "main");
        var first = _repo.Git("rev-parse", "HEAD");
        _repo.Write("platform/infra/database/extra.tf", """variable "size" {}""");
        _repo.Commit("database on main");

        var (changes, stacks) = await DetectAsync();
        var (root, rootStacks) = await DetectAsync(commit: first);

        Assert.Equal(first, changes.Base);
        Assert.Equal(["database"], stacks.Select(s => s.Stack));
        Assert.Null(root.Base);
        Assert.Contains("platform/airlock.yaml", root.Files);
        Assert.Equal(["network", "database", "app", "solo"], rootStacks.Select(s => s.Stack));
    }

    [Fact]
    public async Task Moving_a_file_between_stacks_marks_both()
    {
        _repo.Git("mv", "platform/infra/solo/main.tf", "platform/infra/network/solo.tf");
        _repo.Commit("move");

        var (_, stacks) = await DetectAsync();

        Assert.Equal(["network", "solo"], stacks.Select(s => s.Stack));
        Assert.Equal(["infra/solo/main.tf"], stacks[1].Files.ToArray());
    }

    [Fact]
    public async Task Unknown_refs_and_a_directory_outside_git_are_user_errors()
    {
        using var plain = new TempDir("airlock-graph-nogit");

        var commit = await Assert.ThrowsAsync<UserInputException>(() => CommitChanges.FindAsync(Workspace, "no-such-commit", null, CancellationToken.None));
        var baseRef = await Assert.ThrowsAsync<UserInputException>(() => CommitChanges.FindAsync(Workspace, null, "no-such-branch", CancellationToken.None));
        var outside = await Assert.ThrowsAsync<UserInputException>(() => CommitChanges.FindAsync(plain.Path, null, null, CancellationToken.None));

        Assert.Equal("unknown commit 'no-such-commit'", commit.Message);
        Assert.Equal("unknown base ref 'no-such-branch'", baseRef.Message);
        Assert.Contains("not in a git repository", outside.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Local_modules_are_followed_transitively_and_remote_ones_are_not()
    {
        var modules = ChangedStackDetector.LocalModules(Path.Combine(Workspace, "infra", "app"));
        var database = ChangedStackDetector.LocalModules(Path.Combine(Workspace, "infra", "database"));

        Assert.Equal([Path.Combine(Workspace, "modules", "service"), Path.Combine(Workspace, "modules", "tagging")], modules.ToArray());
        Assert.Equal([Path.Combine(Workspace, "modules", "tagging")], database.ToArray());
        Assert.Empty(ChangedStackDetector.LocalModules(Path.Combine(Workspace, "infra", "missing")));
    }
}
