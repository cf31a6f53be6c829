using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Airlock.Cli.Tests;

/// <summary>The result of one real `airlock` process run.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the built `airlock` CLI as a real child process, exactly as a user would.</summary>
public static class CliRunner
{
    /// <summary>
    /// The ReadyToRun copy of the build (PrecompiledCli.targets: same IL, less JIT in each of the suite's hundreds
    /// of processes), or the plain build where the SDK has no crossgen2.
    /// </summary>
    private static string CliDll { get; } = File.Exists(PrecompiledCliDll) ? PrecompiledCliDll : Path.Combine(AppContext.BaseDirectory, "airlock.dll");

    private static string PrecompiledCliDll => Path.Combine(AppContext.BaseDirectory, "airlock-r2r", "airlock.dll");

    public static Task<CliResult> RunAsync(string? workingDirectory, IDictionary<string, string?>? environment, params string[] args) =>
        RunProcessAsync(StartInfo(workingDirectory, environment, args));

    /// <summary>Runs any process to its end (at most two minutes) with no input, collecting both outputs.</summary>
    public static async Task<CliResult> RunProcessAsync(ProcessStartInfo startInfo)
    {
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(null, null, args);

    /// <summary>
    /// Writes an executable `airlock` into <paramref name="directory"/> that runs this build, for scripts
    /// that call airlock from PATH as users' CI does; returns the directory.
    /// </summary>
    public static string WriteShim(string directory)
    {
        var shim = Path.Combine(directory, "airlock");
        File.WriteAllText(shim, $"#!/bin/sh\nexport DOTNET_TC_CallCountingDelayMs=100\nexec dotnet '{CliDll}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return directory;
    }

    /// <summary>Starts the CLI without waiting for it, for tests that act while it runs (signals, a second command).</summary>
    public static RunningCli Start(string? workingDirectory, IDictionary<string, string?>? environment, params string[] args) =>
        new(Process.Start(StartInfo(workingDirectory, environment, args))!);

    private static ProcessStartInfo StartInfo(string? workingDirectory, IDictionary<string, string?>? environment, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        psi.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        // Plain, stable output for assertions: no colours, no terminal width games.
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["TERM"] = "dumb";

        // The runtime's default tier-up delay instead of the product's 0 ms (RuntimeSettings.props, chosen
        // for long plan passes): with it every short-lived process re-jits methods it will not run again
        // (`validate`: 0.40 against 0.23 CPU s, same wall time), and the suite's hundreds of processes
        // share CI's two cores. It changes when code gets optimised, never what it does.
        psi.Environment["DOTNET_TC_CallCountingDelayMs"] = "100";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                psi.Environment[key] = value;
            }
        }

        return psi;
    }
}

/// <summary>A CLI process still running: wait for a line it prints, interrupt it as Ctrl+C does, collect its result.</summary>
public sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];
    private readonly Lock _gate = new();

    internal RunningCli(Process process)
    {
        _process = process;
        _process.StandardInput.Close();
        _process.OutputDataReceived += (_, e) => Received(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Received(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Waits until a line on stdout or stderr contains <paramref name="text"/>; fails (killing the process) when it never does.</summary>
    public async Task WaitForLineAsync(string text, TimeSpan? timeout = null)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_stdout.ToString().Contains(text, StringComparison.Ordinal) || _stderr.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            _waiters.Add((text, seen));
        }

        try
        {
            await seen.Task.WaitAsync(timeout ?? TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"'{text}' never appeared:\n{Output}");
        }
    }

    /// <summary>Sends SIGINT, what Ctrl+C in a terminal does.</summary>
    public async Task InterruptAsync()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGKILL, as a crash or an OOM kill would: the process gets no chance to clean up.</summary>
    public async Task KillHardAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the process to end and returns what it printed; fails (killing it) after <paramref name="timeout"/>.</summary>
    public async Task<CliResult> WaitForExitAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the CLI did not exit in time:\n{Output}");
        }

        _process.WaitForExit(); // flushes the asynchronous output readers
        lock (_gate)
        {
            return new CliResult(_process.ExitCode, _stdout.ToString(), _stderr.ToString());
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return $"--- stdout\n{_stdout}\n--- stderr\n{_stderr}";
            }
        }
    }

    private void Received(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            buffer.AppendLine(line);
            foreach (var waiter in _waiters.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                waiter.Seen.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }
}
