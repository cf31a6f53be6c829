using Airlock.Testing;

namespace Airlock.Engines.Tests;

/// <summary>Writes small executable shell scripts: the real child processes of these tests.</summary>
public static class Scripts
{
    public static string Write(TempDir dir, string name, string body)
    {
        var path = dir.Write(name, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    /// <summary>
    /// True while the process with this id and start time (<see cref="StartTime"/>) exists and is not a zombie. The
    /// start time tells it from a later process given the same pid (pid_max is 32,768 on the CI machine).
    /// </summary>
    public static bool IsAlive(int pid, string startTime) => Stat(pid) is { } fields && fields[0] is not ("Z" or "X") && fields[19] == startTime;

    /// <summary>The process's start time (clock ticks after boot), or null when there is no such process.</summary>
    public static string? StartTime(int pid) => Stat(pid)?[19];

    // /proc/<pid>/stat from the state field on ("pid (comm) state ppid ..."; comm may contain spaces, so after the last ')').
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }
}
