using System.Diagnostics;
using System.Globalization;

namespace Airlock.Testing;

/// <summary>
/// Stops sample-app instances that a test's deploy scripts started, found by pid. A pid is reused once its process
/// has exited (pid_max is 32,768 on the CI machine, and a test run starts thousands of processes), so a recorded pid is
/// killed only while it still names a sample app started from under the test's own directory: otherwise cleaning up
/// one test could kill another test's application, or any process.
/// </summary>
public static class SampleAppProcesses
{
    /// <summary>Kills <paramref name="pid"/> (and its children) if it is a sample app whose command line mentions <paramref name="root"/>; returns whether it did.</summary>
    public static bool KillIfOurs(int pid, string root)
    {
        if (!IsOurs(pid, root))
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false; // exited meanwhile
        }
    }

    private static bool IsOurs(int pid, string root)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            return cmdline.Contains("Airlock.SampleApp", StringComparison.Ordinal) && cmdline.Contains(root, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // gone
        }
    }
}
