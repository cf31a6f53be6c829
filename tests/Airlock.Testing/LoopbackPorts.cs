using System.Net;
using System.Net.Sockets;

namespace Airlock.Testing;

/// <summary>
/// Ports for test services that a script starts later (so the test cannot hold the socket until then). They are
/// taken below the kernel's ephemeral range (32768–60999 on Linux): a port from "bind to 0" is an ephemeral one,
/// which any outgoing connection of a parallel test (HTTP clients, PostgreSQL) can take before the service binds.
/// Never hands out the same port twice in one process; test processes running side by side (dotnet test runs the
/// test projects in parallel) draw from different thousands, by process id, and claim each port with a lock file
/// (two processes can share a thousand: 12 of them for 8 test assemblies), held until the process exits.
/// </summary>
public static class LoopbackPorts
{
    private static readonly int First = 20000 + (Environment.ProcessId % 12 * 1000);
    private static readonly int Last = First + 1000;
    private static readonly HashSet<int> Given = [];
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), "airlock-test-ports");
    private static readonly List<FileStream> Claims = [];

    /// <summary>A loopback port nothing listens on now, outside the ephemeral range.</summary>
    public static int Reserve()
    {
        lock (Given)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(First, Last);
                if (Given.Contains(port))
                {
                    continue;
                }

                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                }
                catch (SocketException)
                {
                    continue; // someone listens there
                }

                Given.Add(port);
                if (!TryClaim(port))
                {
                    continue; // another test process has it
                }

                return port;
            }

            throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
        }
    }

    // FileShare.None takes an exclusive flock on Unix: another process opening the same file fails until this one exits.
    private static bool TryClaim(int port)
    {
        Directory.CreateDirectory(ClaimDirectory);
        try
        {
            Claims.Add(new FileStream(Path.Combine(ClaimDirectory, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
