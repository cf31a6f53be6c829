using System.Formats.Tar;

using Airlock.Application.Approvals;
using Airlock.Application.Identity;
using Airlock.Application.Plans;
using Airlock.Domain.Approvals;
using Airlock.Domain.Storage;
using Airlock.Testing;

namespace Airlock.Application.Tests.Services;

/// <summary>The small pieces the governed commands rest on: who is acting, what an approval is stored as, the plan archive.</summary>
public sealed class ApplicationPiecesTests
{
    [Fact]
    public void The_actor_is_the_option_then_the_variable_then_git()
    {
        static string? Env(string name) => name == ActorResolver.ActorVariable ? "env@example.com" : null;

        Assert.Equal("opt@example.com", ActorResolver.Resolve(" opt@example.com ", Env, () => "git@example.com"));
        Assert.Equal("env@example.com", ActorResolver.Resolve(null, Env, () => "git@example.com"));
        Assert.Equal("git@example.com", ActorResolver.Resolve("", _ => " ", () => "git@example.com"));
        var error = Assert.Throws<UserInputException>(() => ActorResolver.Resolve(null, _ => null, () => null));
        Assert.Contains("--as", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stored_approval_reads_back_with_its_full_binding_and_destroys()
    {
        var binding = new ApprovalBinding("git@example.com:acme/infra", "abc123", "network", "prod", "sha256:plan", "sha256:policy", "sha256:rules");
        var json = StoredApproval.BindingJson(binding, ["aws_db_instance.main"]);
        var at = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var records = new[]
        {
            new ApprovalRecord(1, "plan-1", "bob@example.com", ApprovalRecord.Approved, at, at.AddHours(1), json),
            new ApprovalRecord(2, "plan-1", "erin@example.com", ApprovalRecord.BreakGlass, at, at.AddMinutes(30), StoredApproval.BindingJson(binding, [], "INC-7", "restore")),
        };

        var approval = Assert.Single(StoredApproval.Approvals(records));
        var grant = Assert.Single(StoredApproval.BreakGlassGrants(records));

        Assert.Equal(binding, approval.Binding);
        Assert.Equal(["aws_db_instance.main"], approval.DestroyAddresses);
        Assert.Equal(("bob@example.com", at, at.AddHours(1)), (approval.Approver, approval.ApprovedAt, approval.ValidUntil));
        Assert.Equal(new BreakGlassGrant("erin@example.com", "INC-7", "restore", at, at.AddMinutes(30)), grant);
    }

    [Fact]
    public void A_plan_archive_round_trips_the_artifact_files()
    {
        using var dir = new TempDir();
        dir.Write("artifact/plan.tfplan", "binary-ish plan");
        dir.Write("artifact/plan.json", "{\"format_version\":\"1.2\"}");

        var archive = PlanArtifactArchive.Pack(Path.Combine(dir.Path, "artifact"));
        PlanArtifactArchive.Unpack(archive, Path.Combine(dir.Path, "out"));

        Assert.Equal("binary-ish plan", File.ReadAllText(dir.File("out/plan.tfplan")));
        Assert.Equal("{\"format_version\":\"1.2\"}", File.ReadAllText(dir.File("out/plan.json")));
    }

    [Fact]
    public void A_plan_archive_is_compressed_and_one_stored_before_compression_still_unpacks()
    {
        using var dir = new TempDir();
        var planJson = "{\"format_version\":\"1.2\",\"resource_changes\":[" + string.Join(",", Enumerable.Range(0, 2000).Select(i => $"{{\"address\":\"aws_s3_bucket.b{i}\",\"type\":\"aws_s3_bucket\",\"change\":{{\"actions\":[\"create\"]}}}}")) + "]}";
        dir.Write("artifact/plan.json", planJson);

        var archive = PlanArtifactArchive.Pack(Path.Combine(dir.Path, "artifact"));

        Assert.Equal(new byte[] { 0x1F, 0x8B }, archive[..2]);
        Assert.True(archive.Length < planJson.Length / 5, $"{archive.Length} bytes for {planJson.Length} of plan JSON");

        // What Pack wrote before archives were compressed: a plain tar.
        using var plain = new MemoryStream();
        using (var writer = new TarWriter(plain, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(dir.File("artifact/plan.json"), "plan.json");
        }

        PlanArtifactArchive.Unpack(plain.ToArray(), dir.File("old"));
        Assert.Equal(planJson, File.ReadAllText(dir.File("old/plan.json")));
    }

    [Fact]
    public void An_archive_entry_that_would_escape_the_directory_is_refused()
    {
        using var dir = new TempDir();
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "../escaped.txt") { DataStream = new MemoryStream("x"u8.ToArray()) };
            writer.WriteEntry(entry);
        }

        var error = Assert.Throws<InvalidDataException>(() => PlanArtifactArchive.Unpack(buffer.ToArray(), dir.File("out")));
        Assert.Contains("../escaped.txt", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("escaped.txt")));
    }
}
