using Airlock.Store.Plans;
using Airlock.Testing;

namespace Airlock.Store.Tests.Keys;

// Key file modes are a Unix concept; Airlock runs on Linux.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class PlanKeyFileTests
{
    [Fact]
    public void The_plan_key_is_created_owner_only_and_read_back_unchanged()
    {
        using var dir = new TempDir();
        var path = dir.File(".airlock/keys/plan.key");

        var created = PlanKey.LoadOrCreate(path);
        var again = PlanKey.LoadOrCreate(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(created.ToString(), again.ToString());
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    [Fact]
    public void Concurrent_creators_end_up_with_one_key()
    {
        using var dir = new TempDir();
        var path = dir.File("keys/plan.key");

        var ids = Enumerable.Range(0, 8).AsParallel().Select(_ => PlanKey.LoadOrCreate(path).ToString()).ToList();

        Assert.Single(ids.Distinct());
    }

    [Fact]
    public void A_key_file_others_can_read_is_refused()
    {
        using var dir = new TempDir();
        var path = dir.File("plan.key");
        PlanKey.LoadOrCreate(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var error = Assert.Throws<UnauthorizedAccessException>(() => PlanKey.LoadOrCreate(path));

        Assert.Equal($"plan key file {path} is accessible by group or others; run: chmod 600 {path}", error.Message);
    }
}
