using System.Text.Json;

namespace Airlock.Engines.Tofu;

/// <summary>
/// The serial and lineage of the state `tofu state pull` prints, read as the bytes arrive: a state
/// can be hundreds of megabytes (and holds secrets), and both fields come before its resources, so
/// the reading stops there; whatever follows is never held.
/// </summary>
public static class StateHeader
{
    private const int InitialBuffer = 64 * 1024;

    /// <summary>(serial, lineage); both null when the output is empty (no state yet).</summary>
    /// <exception cref="JsonException">Not JSON, or not a state object.</exception>
    public static async Task<(long? Serial, string? Lineage)> ReadAsync(Stream stdout, CancellationToken cancellationToken)
    {
        var buffer = new byte[InitialBuffer];
        var filled = 0;
        var eof = false;
        var scan = new Scan();
        while (true)
        {
            if (!eof)
            {
                var read = await stdout.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                eof = read == 0;
                filled += read;
            }

            if (!scan.Started && buffer.AsSpan(0, filled).TrimStart(" \t\r\n"u8).IsEmpty)
            {
                if (eof)
                {
                    return (null, null);
                }

                filled = 0; // leading whitespace only: nothing to keep
                continue;
            }

            var consumed = scan.Feed(buffer.AsSpan(0, filled), eof);
            if (scan.Done || eof)
            {
                return (scan.Serial, scan.Lineage);
            }

            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2); // one token longer than the buffer (a long string)
            }
        }
    }

    /// <summary>The reader's progress between buffers (a <see cref="Utf8JsonReader"/> cannot live across an await).</summary>
    private sealed class Scan
    {
        private JsonReaderState _state;
        private string? _property;

        public bool Started { get; private set; }

        public long? Serial { get; private set; }

        public string? Lineage { get; private set; }

        public bool Done => Serial is not null && Lineage is not null;

        /// <summary>Reads the tokens in <paramref name="bytes"/>; returns how many bytes it consumed.</summary>
        public int Feed(ReadOnlySpan<byte> bytes, bool isFinalBlock)
        {
            var reader = new Utf8JsonReader(bytes, isFinalBlock, _state);
            while (!Done && reader.Read())
            {
                if (!Started)
                {
                    Started = true;
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new JsonException($"expected a state object, found {reader.TokenType}");
                    }

                    continue;
                }

                if (reader.CurrentDepth != 1)
                {
                    continue; // inside outputs or resources
                }

                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    _property = reader.GetString();
                    continue;
                }

                if (_property == "serial")
                {
                    Serial = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var serial)
                        ? serial
                        : throw new JsonException("serial is not a whole number");
                }
                else if (_property == "lineage" && reader.TokenType == JsonTokenType.String)
                {
                    Lineage = reader.GetString();
                }

                _property = null;
            }

            _state = reader.CurrentState;
            return (int)reader.BytesConsumed;
        }
    }
}
