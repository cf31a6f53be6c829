using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

using Airlock.Testing;

namespace Airlock.Application.Tests.Deployments;

/// <summary>The sample service that the deployment tests and the demo deploy, run as a real process.</summary>
public sealed class SampleAppTests
{
    [Fact]
    public async Task Clients_that_leave_before_their_answer_do_not_stop_the_service()
    {
        // A health check whose attempt times out closes its connection before the answer. The service once died of
        // the failed write, and every later check met "connection refused" (a CI run's blue-green test).
        var port = LoopbackPorts.Reserve();
        using var app = StartApp(port, "--unhealthy");
        var stderr = app.StandardError.ReadToEndAsync();
        try
        {
            Assert.Equal(503, await WaitForAnswerAsync(port));

            for (var i = 0; i < 200 && !app.HasExited; i++)
            {
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await client.ConnectAsync("127.0.0.1", port);
                await client.SendAsync(Encoding.ASCII.GetBytes($"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
                client.LingerState = new LingerOption(true, 0); // close with a reset, as an aborted request does
                client.Close();
            }

            if (app.HasExited)
            {
                Assert.Fail($"the service exited: {await stderr}");
            }

            Assert.Equal((503, "unhealthy"), await DeploymentWorkspace.GetAsync(port, "/health"));
            Assert.Equal((200, "v1"), await DeploymentWorkspace.GetAsync(port, "/version"));
        }
        finally
        {
            await StopAsync(app);
        }
    }

    [Fact]
    public async Task A_service_whose_health_is_checked_while_it_starts_comes_up()
    {
        // Health checks retry against a service that is still starting. The managed HttpListener the service used
        // could die in Start() when a connection arrived as it began to listen (dotnet/corefx#35191): a CI run's
        // direct deployments never came up. Twenty starts, each under connections as fast as they are refused.
        for (var start = 0; start < 20; start++)
        {
            var port = LoopbackPorts.Reserve();
            using var app = StartApp(port);
            var stderr = app.StandardError.ReadToEndAsync();
            try
            {
                var answered = false;
                for (var attempt = 0; attempt < 10_000_000 && !answered && !app.HasExited; attempt++)
                {
                    using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    try
                    {
                        await client.ConnectAsync("127.0.0.1", port);
                        answered = true;
                    }
                    catch (SocketException)
                    {
                        // refused: not listening yet
                    }
                }

                var version = await DeploymentWorkspace.GetAsync(port, "/version");
                if (version != (200, "v1"))
                {
                    app.WaitForExit(5000);
                    Assert.Fail($"start {start + 1}: /version answered {version}; " + (app.HasExited ? $"the service exited: {await stderr}" : "it still runs"));
                }
            }
            finally
            {
                await StopAsync(app);
            }
        }
    }

    private static Process StartApp(int port, params string[] flags)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(DeploymentWorkspace.SampleAppDirectory, "Airlock.SampleApp.dll"), "--port", port.ToString(CultureInfo.InvariantCulture), "--version", "v1" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var flag in flags)
        {
            start.ArgumentList.Add(flag);
        }

        return Process.Start(start)!;
    }

    private static async Task StopAsync(Process app)
    {
        if (!app.HasExited)
        {
            app.Kill();
            await app.WaitForExitAsync();
        }
    }

    private static async Task<int> WaitForAnswerAsync(int port)
    {
        // A start on a loaded machine takes seconds.
        for (var attempt = 0; attempt < 600; attempt++)
        {
            var (status, _) = await DeploymentWorkspace.GetAsync(port, "/health");
            if (status != 0)
            {
                return status;
            }

            await Task.Delay(100);
        }

        return 0;
    }
}
