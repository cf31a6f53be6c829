using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Airlock.Cli.Commands;

/// <summary>
/// The demo's temporary workspace: examples/local-platform unpacked from the CLI's embedded resources
/// into a fresh git repository, with free loopback ports for the application, and the sample
/// application processes its deploy scripts start (found by their pid files under local/).
/// </summary>
internal sealed class DemoWorkspace
{
    private const string Prefix = "local-platform/";
    private const string SampleApp = "Airlock.SampleApp.dll";
    private static readonly string[] Slots = ["dev", "stage", "prod-eu-west", "prod-us-east"];

    private DemoWorkspace(string root) => Root = root;

    /// <summary>The workspace directory (a git repository with airlock.yaml at its root).</summary>
    public string Root { get; }

    /// <summary>The loopback port for the demo's server, distinct from every colour's port in ports.conf.</summary>
    public int ServerPort { get; private set; }

    /// <summary>Why the demo cannot run here, in one line; null when it can.</summary>
    public static string? MissingPrerequisite()
    {
        // The .NET tool and a build of this repository carry the sample application beside airlock.dll; the
        // self-contained single-file build bundles it inside the executable, where dotnet cannot start it.
        if (!File.Exists(Path.Combine(AppContext.BaseDirectory, SampleApp)))
        {
            return $"the demo needs the sample application ({SampleApp}) beside airlock, and {AppContext.BaseDirectory.TrimEnd('/')} has none (the single-file build does not carry it): run the demo from the .NET tool (dotnet tool install -g airlock) or a source checkout (dotnet run --project src/Airlock.Cli -- demo)";
        }

        if (!Succeeds("git", "--version"))
        {
            return "the demo needs git (plans and approvals bind to a commit): install git";
        }

        return null;
    }

    /// <summary>Unpacks the example into a new temporary directory and commits it.</summary>
    public static DemoWorkspace Create()
    {
        var root = Path.Combine(Path.GetTempPath(), "airlock-demo-" + Guid.NewGuid().ToString("N")[..8]);
        var assembly = typeof(DemoWorkspace).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var target = Path.Combine(root, name[Prefix.Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var source = assembly.GetManifestResourceStream(name)!)
            using (var file = File.Create(target))
            {
                source.CopyTo(file);
            }

            // Embedded resources do not keep the executable bit; the command engine runs the scripts directly.
            if (target.EndsWith(".sh", StringComparison.Ordinal) && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, File.GetUnixFileMode(target) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }

        var workspace = new DemoWorkspace(root);
        try
        {
            File.WriteAllText(Path.Combine(root, ".gitignore"), "local/\n.airlock/\ndemo.log\n");
            workspace.UseFreePorts();
            // The build script copies the sample application from here (it ships beside airlock).
            Environment.SetEnvironmentVariable("SAMPLE_APP_DIR", AppContext.BaseDirectory);
            workspace.Git("init", "-q", "-b", "main");
            workspace.Commit("local platform: database, edge and web v1");
            return workspace;
        }
        catch
        {
            workspace.Delete(); // a half-made workspace is no use to anyone
            throw;
        }
    }

    /// <summary>v2: a change to the application only, with the demo's injected fault for the eu-west canary.</summary>
    public void CommitV2()
    {
        File.AppendAllText(Path.Combine(Root, "app", "CHANGES"), "v2: new checkout page\n");
        File.WriteAllText(Path.Combine(Root, "app", "inject-fault"), "v2 eu-west\n");
        Commit("web v2: new checkout page (demo: with an injected fault in eu-west)");
    }

    /// <summary>Writes the demo team's API tokens to a file only the owner can read; returns its path.</summary>
    public string WriteTokens(IEnumerable<string> lines)
    {
        var path = Path.Combine(Root, ".airlock", "demo-tokens");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            foreach (var line in lines)
            {
                writer.WriteLine(line);
            }
        }

        return path;
    }

    /// <summary>The colour the edge sends a slot's traffic to ("live" in local/SLOT/routes.conf), or null.</summary>
    public string? LiveColor(string slot)
    {
        var routes = Path.Combine(Root, "local", slot, "routes.conf");
        return File.Exists(routes)
            ? File.ReadLines(routes).Where(l => l.StartsWith("live ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).LastOrDefault()
            : null;
    }

    /// <summary>GET /version of a slot's colour, at the port its routing config names; null when nothing answers.</summary>
    public async Task<string?> VersionServedAsync(string slot, string color, CancellationToken ct)
    {
        var upstream = File.ReadLines(Path.Combine(Root, "local", slot, "routes.conf"))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(p => p.Length == 3 && p[0] == "upstream" && p[1] == color)?[2];
        if (upstream is null)
        {
            return null;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return (await http.GetStringAsync($"http://{upstream}/version", ct)).Trim();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Stops every sample application the deploy scripts started (pid files under local/); returns how many.</summary>
    public int StopApplications()
    {
        var local = Path.Combine(Root, "local");
        var stopped = 0;
        foreach (var pidFile in Directory.Exists(local) ? Directory.EnumerateFiles(local, "web-*.pid", SearchOption.AllDirectories) : [])
        {
            if (!int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid) || !IsSampleApp(pid))
            {
                continue; // gone already, or the pid now belongs to someone else's process
            }

            try
            {
                using var process = Process.GetProcessById(pid);
                // SIGKILL frees the port at once; the process is not our child, so its exit is not awaited here.
                process.Kill();
                stopped++;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // exited meanwhile
            }
        }

        return stopped;
    }

    /// <summary>Removes the workspace.</summary>
    public void Delete()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: leave the temp directory to the system's cleanup.
        }
    }

    private bool IsSampleApp(int pid)
    {
        var cmdline = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline";
        try
        {
            // Started from this workspace's release artifacts: a pid freed by an exited app may now be anyone's, even another demo's app.
            return !File.Exists(cmdline) ? !OperatingSystem.IsLinux() : File.ReadAllText(cmdline) is var line && line.Contains(SampleApp, StringComparison.Ordinal) && line.Contains(Root, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    // ports.conf ships with fixed ports for running the example by hand; the demo takes free ones so it
    // never collides with anything already listening. The server's port is chosen with them: left to the
    // kernel (port 0) after they were released, it was once given a colour's port, and v2's health checks
    // in dev met the Airlock server (404) instead of the app.
    private void UseFreePorts()
    {
        var listeners = Enumerable.Range(0, (Slots.Length * 2) + 1).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)).ToList();
            ServerPort = ((IPEndPoint)listeners[^1].LocalEndpoint).Port;
            var lines = new List<string> { "# Loopback ports of the two colours in each slot, chosen free by airlock demo.", "# slot          blue   green" };
            lines.AddRange(Slots.Select((slot, i) => $"{slot,-15} {ports[2 * i],-6} {ports[(2 * i) + 1]}"));
            File.WriteAllLines(Path.Combine(Root, "stacks", "edge", "ports.conf"), lines);
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private void Commit(string message)
    {
        Git("add", "-A");
        Git("-c", "user.name=Airlock demo", "-c", "user.email=demo@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message);
    }

    private void Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var git = Process.Start(psi)!;
        var stderr = git.StandardError.ReadToEndAsync();
        git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        if (git.ExitCode != 0)
        {
            throw new IOException($"git {args[0]} failed in {Root}: {stderr.Result.Trim()}");
        }
    }

    private static bool Succeeds(string program, string argument)
    {
        var psi = new ProcessStartInfo(program, argument) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        try
        {
            using var process = Process.Start(psi)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
