using System.Globalization;
using System.Net;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: Airlock.SampleApp --port N --version V [--color C] [--unhealthy | --unhealthy-after N]
//        Airlock.SampleApp sqlite DB [SQL]   (runs SQL on a SQLite file: see SqliteMode)
// GET /health → 200 "ok" (503 "unhealthy" with --unhealthy or AIRLOCK_SAMPLE_UNHEALTHY=1, or once N health
// requests have been answered with --unhealthy-after N: a defect that only shows after the first checks),
// GET /version → V, GET / → "V C".
// Kestrel, not HttpListener: the managed HttpListener on Linux can die in Start() when a client connects while it starts
// (dotnet/corefx#35191), which is exactly what a health check retrying against a starting service does.
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

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
var app = builder.Build();
var healthAnswered = 0;
const string TextPlain = "text/plain; charset=utf-8";
app.MapGet("/health", () => options.Unhealthy || Interlocked.Increment(ref healthAnswered) > options.HealthyChecks
    ? Results.Text("unhealthy\n", TextPlain, statusCode: 503)
    : Results.Text("ok\n", TextPlain));
app.MapGet("/version", () => Results.Text(options.Version + "\n", TextPlain));
app.MapGet("/", () => Results.Text($"{options.Version} {options.Color}\n", TextPlain));

var port = options.Port.ToString(CultureInfo.InvariantCulture);
try
{
    await app.StartAsync();
}
catch (IOException e)
{
    Console.Error.WriteLine($"cannot listen on 127.0.0.1:{port}: {e.Message}");
    return 1;
}

// Ctrl+C and SIGTERM stop the host.
Console.WriteLine($"listening on 127.0.0.1:{port} version={options.Version} color={options.Color} healthy={!options.Unhealthy}");
await app.WaitForShutdownAsync();
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
