using System.Net;
using System.Net.Sockets;

using Airlock.Testing;

namespace Airlock.Server.Tests;

/// <summary>
/// A real TCP relay on loopback in front of a server (here: PostgreSQL), so a test can make that server
/// unreachable for a replica and reachable again: <see cref="Cut"/> resets every relayed connection and stops
/// listening (new connections are refused, as when the database host is down); <see cref="RestoreAsync"/>
/// listens on the same port again. <see cref="Stall"/> is a dead link instead: connections stay open but nothing
/// crosses any more, in either direction, so the server never answers (and never refuses).
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _open = [];
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;
    private volatile bool _stalled;

    private TcpRelay(IPEndPoint target)
    {
        _target = target;
    }

    /// <summary>The loopback port the relay listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Starts relaying a free loopback port to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static async Task<TcpRelay> StartAsync(string host, int port)
    {
        var addresses = await Dns.GetHostAddressesAsync(host);
        var relay = new TcpRelay(new IPEndPoint(addresses.First(a => a.AddressFamily == AddressFamily.InterNetwork), port));
        relay.Listen(LoopbackPorts.Reserve()); // outside the ephemeral range, so the port is still free to listen on again
        return relay;
    }

    /// <summary>Resets every relayed connection and stops listening: the target is unreachable through the relay.</summary>
    public void Cut()
    {
        _listener?.Stop();
        _listener = null;
        lock (_gate)
        {
            foreach (var client in _open)
            {
                client.Client.LingerState = new LingerOption(true, 0); // RST, as a dead peer's host answers
                client.Dispose();
            }

            _open.Clear();
        }
    }

    /// <summary>From now on nothing crosses: bytes are swallowed and new connections are held, never relayed.</summary>
    public void Stall() => _stalled = true;

    /// <summary>Listens on the same port again.</summary>
    public async Task RestoreAsync()
    {
        await _accepting;
        Listen(Port);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Cut();
        await _accepting;
    }

    private void Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _accepting = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // stopped
            }

            if (_stalled)
            {
                lock (_gate)
                {
                    _open.Add(inbound); // accepted by the network, never answered
                }

                continue;
            }

            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(_target);
            }
            catch (SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            lock (_gate)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }

            _ = PumpAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await from.GetStream().ReadAsync(buffer)) > 0)
            {
                if (!_stalled)
                {
                    await to.GetStream().WriteAsync(buffer.AsMemory(0, read));
                }
            }

            to.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // one side was cut or closed; the other pump ends too
        }
    }
}
