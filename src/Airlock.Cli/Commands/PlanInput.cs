using Airlock.Domain.Plans;

namespace Airlock.Cli.Commands;

/// <summary>Opens a plan file for the plan commands and turns every failure into the one-line CLI error.</summary>
internal static class PlanInput
{
    /// <summary>Reads and summarises <paramref name="path"/>; on failure writes "airlock: file:line:col: reason" and returns null.</summary>
    public static PlanSummary? TryRead(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            return PlanReader.Read(stream, ResourceClassMap.Default);
        }
        catch (PlanParseException e)
        {
            Console.Error.WriteLine($"airlock: {path}:{e.Line}:{e.Column}: {e.Reason}");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            Console.Error.WriteLine($"airlock: {path}: cannot read: {e.Message}");
        }

        return null;
    }
}
