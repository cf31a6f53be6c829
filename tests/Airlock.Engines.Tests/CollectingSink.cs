using System.Collections.Concurrent;

using Airlock.Engines.Processes;

namespace Airlock.Engines.Tests;

/// <summary>Collects every line a runner hands to its sink, for assertions.</summary>
public sealed class CollectingSink : IOutputSink
{
    private readonly ConcurrentQueue<(OutputChannel Channel, string Line)> _lines = new();

    public IReadOnlyList<(OutputChannel Channel, string Line)> Lines => [.. _lines];

    public string AllText => string.Join('\n', _lines.Select(l => l.Line));

    public void WriteLine(OutputChannel stream, string line) => _lines.Enqueue((stream, line));

    public async Task WaitForLineAsync(Func<string, bool> predicate, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!_lines.Any(l => predicate(l.Line)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("no matching line; got:\n" + AllText);
            }

            await Task.Delay(20);
        }
    }
}
