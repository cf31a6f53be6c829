using System.Threading.Channels;

using Airlock.Domain.Runs;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;

namespace Airlock.Application.Apply;

/// <summary>
/// An apply observer that persists the run's log: the engine's output lines (already redacted by the process runner)
/// and Airlock's transitions and notes, numbered 1, 2, 3… in the order they happen, written in small batches off the
/// engine's reader threads. Any replica streams them from the store. Forwards everything to <paramref name="inner"/>.
/// Dispose flushes what is left.
/// </summary>
public sealed class RunLogRecorder : IApplyObserver, IOutputSink, IAsyncDisposable
{
    private readonly IRunLogStore _store;
    private readonly TimeProvider _time;
    private readonly string _runId;
    private readonly IApplyObserver _inner;
    private readonly Channel<RunLogLine> _lines = Channel.CreateUnbounded<RunLogLine>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _order = new();
    private readonly Task _pump;
    private long _seq;

    /// <summary>Starts recording for <paramref name="runId"/>.</summary>
    public RunLogRecorder(IRunLogStore store, TimeProvider time, string runId, IApplyObserver? inner = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _runId = runId;
        _inner = inner ?? SilentApplyObserver.Instance;
        _pump = PumpAsync();
    }

    /// <inheritdoc />
    public IOutputSink ToolOutput => this;

    /// <inheritdoc />
    public void Transition(RunTransition transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        Add("airlock", $"{transition.From.WireName()} → {transition.To.WireName()}: {transition.Detail}");
        _inner.Transition(transition);
    }

    /// <inheritdoc />
    public void Note(string message)
    {
        Add("airlock", message);
        _inner.Note(message);
    }

    /// <inheritdoc />
    public void WriteLine(OutputChannel stream, string line)
    {
        Add(stream == OutputChannel.Stderr ? "stderr" : "stdout", line);
        _inner.ToolOutput.WriteLine(stream, line);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _pump;
    }

    private void Add(string stream, string line)
    {
        // Numbering and enqueueing under one lock keeps seq order equal to write order across reader threads.
        lock (_order)
        {
            _lines.Writer.TryWrite(new RunLogLine(_runId, ++_seq, _time.GetUtcNow(), stream, line));
        }
    }

    private async Task PumpAsync()
    {
        await Task.Yield();
        var batch = new List<RunLogLine>();
        while (await _lines.Reader.WaitToReadAsync())
        {
            while (batch.Count < 200 && _lines.Reader.TryRead(out var line))
            {
                batch.Add(line);
            }

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await _store.AppendAsync(batch, CancellationToken.None);
                    break;
                }
                catch (Exception e) when (attempt < 5 && e is System.Data.Common.DbException or TimeoutException or IOException)
                {
                    // A log line is worth a short retry, never worth failing the apply.
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _time);
                }
                catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or IOException)
                {
                    break;
                }
            }

            batch.Clear();
        }
    }
}
