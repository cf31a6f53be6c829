using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Airlock.Application.Tests.Verification;

/// <summary>What the server answers to one request.</summary>
internal sealed record HttpReply(int Status, string Body = "", TimeSpan Delay = default);

/// <summary>
/// A real HTTP/1.1 server on 127.0.0.1 (a TcpListener on a port the OS picks, one request per
/// connection) whose answer to the n-th request (1-based) the test decides, and which records
/// each request's path and arrival time.
/// </summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<int, HttpReply> _reply;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(string Path, long Timestamp)> _requests = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _count;

    /// <param name="reply">The reply to the n-th request (1-based).</param>
    /// <param name="port">A loopback port to listen on (a service that comes up where a check already looks); 0 for any free one.</param>
    public LoopbackHttpServer(Func<int, HttpReply> reply, int port = 0)
    {
        _listener = new TcpListener(IPAddress.Loopback, port);
        _reply = reply;
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int RequestCount => Volatile.Read(ref _count);

    public IReadOnlyList<string> Paths => [.. _requests.Select(r => r.Path)];

    /// <summary>Time between consecutive request arrivals.</summary>
    public IReadOnlyList<TimeSpan> Gaps()
    {
        var stamps = _requests.Select(r => r.Timestamp).ToArray();
        return [.. stamps.Zip(stamps.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b))];
    }

    public string Url(string path = "/health") => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}{path}";

    /// <summary>Completes when the next request (not yet waited for) has arrived.</summary>
    public Task WaitForRequestAsync(TimeSpan patience) => _arrived.WaitAsync(patience).ContinueWith(
        t => t.Result ? Task.CompletedTask : throw new TimeoutException("no request arrived"), TaskScheduler.Default).Unwrap();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAll([.. _connections, _acceptLoop]).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
        _arrived.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            var requestLine = await reader.ReadLineAsync(_stop.Token) ?? "";
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync(_stop.Token)))
            {
                // headers: a GET has no body, so the blank line ends the request
            }

            var number = Interlocked.Increment(ref _count);
            var path = requestLine.Split(' ') is [_, var target, ..] ? target : "";
            _requests.Enqueue((path, Stopwatch.GetTimestamp()));
            _arrived.Release();

            var reply = _reply(number);
            if (reply.Delay > TimeSpan.Zero)
            {
                await Task.Delay(reply.Delay, _stop.Token);
            }

            var body = Encoding.UTF8.GetBytes(reply.Body);
            var head = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {reply.Status.ToString(CultureInfo.InvariantCulture)} Scripted\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(head, _stop.Token);
            await stream.WriteAsync(body, _stop.Token);
        }
    }
}
