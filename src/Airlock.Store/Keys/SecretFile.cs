namespace Airlock.Store.Keys;

/// <summary>
/// Key files readable by their owner only (0600 in a 0700 folder). A new file is written to a private
/// temp file and moved into place, so a reader never sees it half written and two processes creating
/// it at once end up with the same content.
/// </summary>
internal static class SecretFile
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> with mode 0600; returns false when it already existed (and <paramref name="overwrite"/> is false).</summary>
    public static bool Write(string path, string content, bool overwrite)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else
        {
            Directory.CreateDirectory(dir, OwnerOnlyDirectory);
        }

        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        try
        {
            using (var file = new FileStream(temp, options))
            using (var writer = new StreamWriter(file))
            {
                writer.Write(content);
                writer.Flush();
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite);
            return true;
        }
        catch (IOException) when (!overwrite && File.Exists(path))
        {
            return false;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Refuses a key file that group or others can access; <paramref name="what"/> names it in the message.</summary>
    public static void EnsureOwnerOnly(string path, string what)
    {
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
        {
            throw new UnauthorizedAccessException($"{what} {path} is accessible by group or others; run: chmod 600 {path}");
        }
    }
}
