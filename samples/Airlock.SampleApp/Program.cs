using System.Globalization;
using System.Net;
using System.Text;

// Usage: Airlock.SampleApp --port N --version V [--color C] [--unhealthy | --unhealthy-after N]
//        Airlock.SampleApp sqlite DB [SQL]   (runs SQL on a SQLite file: see SqliteMode)
// GET /health → 200 "ok" (503 "unhealthy" with --unhealthy or AIRLOCK_SAMPLE_UNHEALTHY=1, or once N health
// requests have been answered with --unhealthy-after N: a defect that only shows after the first checks),
// GET /version → V, GET / → "V C".
// HttpListener rather than Kestrel: it answers within a few hundred milliseconds of starting, which keeps deploy tests short.
if (args is ["sqlite", .. var sqliteArgs])
{
    return SqliteMode.Run(sqliteArgs);
}

var options = SampleOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: Airlock.SampleApp --port N --version V [--color C] [--unhealthy | --unhealthy-after N]");
    return 2;
}

using var listener = new HttpListener();
listener.Prefixes.Add($"http://127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}/");
try
{
    listener.Start();
}
catch (HttpListenerException e)
{
    Console.Error.WriteLine($"cannot listen on 127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}: {e.Message}");
    return 1;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
Console.WriteLine($"listening on 127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)} version={options.Version} color={options.Color} healthy={!options.Unhealthy}");
var healthAnswered = 0;

while (!stop.IsCancellationRequested)
{
    HttpListenerContext context;
    try
    {
        context = await listener.GetContextAsync().WaitAsync(stop.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }
    catch (HttpListenerException) when (!listener.IsListening)
    {
        break;
    }
    catch (HttpListenerException)
    {
        continue; // one bad connection, not the listener
    }

    var (status, body) = context.Request.Url?.AbsolutePath switch
    {
        "/health" => options.Unhealthy || healthAnswered++ >= options.HealthyChecks ? (503, "unhealthy") : (200, "ok"),
        "/version" => (200, options.Version),
        "/" => (200, $"{options.Version} {options.Color}"),
        _ => (404, "not found"),
    };
    var bytes = Encoding.UTF8.GetBytes(body + "\n");
    context.Response.StatusCode = status;
    context.Response.ContentType = "text/plain; charset=utf-8";
    context.Response.ContentLength64 = bytes.Length;
    try
    {
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }
    catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
    {
        // The client went away first (a health check whose attempt timed out on a loaded machine): that client's
        // loss only. Unhandled, it ended the service, and every later check met "connection refused".
        context.Response.Abort();
    }
}

return 0;

/// <summary>The sample service's command line.</summary>
internal sealed record SampleOptions(int Port, string Version, string Color, bool Unhealthy, int HealthyChecks = int.MaxValue)
{
    public static SampleOptions? Parse(string[] args)
    {
        int? port = null;
        string? version = null;
        var color = "none";
        var unhealthy = Environment.GetEnvironmentVariable("AIRLOCK_SAMPLE_UNHEALTHY") == "1";
        var healthyChecks = int.MaxValue;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536:
                    port = p;
                    i++;
                    break;
                case "--version" when i + 1 < args.Length:
                    version = args[++i];
                    break;
                case "--color" when i + 1 < args.Length:
                    color = args[++i];
                    break;
                case "--unhealthy":
                    unhealthy = true;
                    break;
                case "--unhealthy-after" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n):
                    healthyChecks = n;
                    i++;
                    break;
                default:
                    return null;
            }
        }

        return port is { } valid && version is not null ? new SampleOptions(valid, version, color, unhealthy, healthyChecks) : null;
    }
}
