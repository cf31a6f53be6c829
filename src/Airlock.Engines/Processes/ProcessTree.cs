using System.Diagnostics;
using System.Globalization;

namespace Airlock.Engines.Processes;

/// <summary>
/// Finds and signals a process's descendants. A tool started through <c>/bin/sh -c</c> (every
/// command-engine script) is a child of the shell, and dash does not pass SIGINT on: without this,
/// "cancel" would reach only the shell while the script went on changing things.
/// </summary>
internal static class ProcessTree
{
    /// <summary>Sends SIGINT to every descendant of <paramref name="pid"/> (not to it: the caller signals it). Best effort.</summary>
    public static void InterruptDescendants(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var descendants = Descendants(pid);
        if (descendants.Count == 0)
        {
            return;
        }

        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", .. descendants.Select(p => p.ToString(CultureInfo.InvariantCulture))])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
            });
            kill?.WaitForExit(5000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No kill(1): the grace period still ends in a forced kill of the whole tree.
        }
    }

    /// <summary>Descendants of <paramref name="pid"/>, read from /proc (children before grandchildren).</summary>
    public static List<int> Descendants(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var candidate))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }

                list.Add(candidate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }

        var result = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.Count > 0)
        {
            foreach (var child in children.GetValueOrDefault(queue.Dequeue()) ?? [])
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }

        return result;
    }
}
