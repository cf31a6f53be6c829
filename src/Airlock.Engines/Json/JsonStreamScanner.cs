using System.Text.Json;

namespace Airlock.Engines.Json;

/// <summary>Receives the tokens of a JSON stream one at a time (<see cref="JsonStreamScanner"/>).</summary>
public interface IJsonTokenVisitor
{
    /// <summary>Takes the reader's current token; returns false to stop reading (the rest is never read).</summary>
    bool Take(ref Utf8JsonReader reader);
}

/// <summary>
/// Reads a JSON stream token by token through one buffer, so a document of hundreds of megabytes is never
/// held: the plan JSON a command engine writes, the state `tofu state pull` prints. The buffer grows only
/// for a single token longer than it (a long string).
/// </summary>
public static class JsonStreamScanner
{
    private const int InitialBuffer = 64 * 1024;

    /// <summary>
    /// Feeds the tokens of <paramref name="stream"/> to <paramref name="visitor"/> until the end or until it
    /// stops; returns false when the stream held nothing but whitespace.
    /// </summary>
    /// <exception cref="JsonException">Invalid or truncated JSON before the visitor stopped.</exception>
    public static async Task<bool> ScanAsync(Stream stream, IJsonTokenVisitor visitor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(visitor);
        var buffer = new byte[InitialBuffer];
        var filled = 0;
        var state = new JsonReaderState();
        var started = false;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            var eof = read == 0;
            filled += read;
            if (!started)
            {
                if (buffer.AsSpan(0, filled).TrimStart(" \t\r\n"u8).IsEmpty)
                {
                    if (eof)
                    {
                        return false;
                    }

                    filled = 0; // leading whitespace only: nothing to keep
                    continue;
                }

                started = true;
            }

            var (consumed, stopped) = Feed(buffer.AsSpan(0, filled), eof, ref state, visitor);
            if (stopped || eof)
            {
                return true;
            }

            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }

    // Synchronous: a Utf8JsonReader cannot live across an await, so each buffer gets its own, resumed from the state.
    private static (int Consumed, bool Stopped) Feed(ReadOnlySpan<byte> bytes, bool isFinalBlock, ref JsonReaderState state, IJsonTokenVisitor visitor)
    {
        var reader = new Utf8JsonReader(bytes, isFinalBlock, state);
        while (reader.Read())
        {
            if (!visitor.Take(ref reader))
            {
                return ((int)reader.BytesConsumed, true);
            }
        }

        state = reader.CurrentState;
        return ((int)reader.BytesConsumed, false);
    }
}
