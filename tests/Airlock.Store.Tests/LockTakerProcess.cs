using System.Diagnostics;
using System.Globalization;

namespace Airlock.Store.Tests;

/// <summary>Starts the Airlock.Store.LockTaker helper as a real OS process.</summary>
internal static class LockTakerProcess
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "Airlock.Store.LockTaker.dll");

    public static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("cannot start the LockTaker helper");
    }

    public static async Task RunAllAsync(IEnumerable<string[]> argumentLists, TimeSpan timeout)
    {
        var processes = argumentLists.Select(Start).ToList();
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            foreach (var process in processes)
            {
                var stderr = process.StandardError.ReadToEndAsync(cts.Token);
                await process.WaitForExitAsync(cts.Token);
                Assert.True(process.ExitCode == 0, $"LockTaker exited {process.ExitCode}: {await stderr}");
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }

    public static double Ms(long stopwatchTicks) => stopwatchTicks * 1000.0 / Stopwatch.Frequency;

    public static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);
}
