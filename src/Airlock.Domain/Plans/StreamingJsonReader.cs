using System.Text;
using System.Text.Json;

namespace Airlock.Domain.Plans;

/// <summary>
/// A forward-only JSON reader over a <see cref="Stream"/> that refills a bounded buffer, so a
/// plan of any size is read with memory proportional to the largest single value materialised.
/// </summary>
/// <remarks>
/// <see cref="Utf8JsonReader"/> is a ref struct and cannot live in a field, so every operation
/// rebuilds one from the saved <see cref="JsonReaderState"/>; the state carries depth, token type
/// and line position across buffer refills.
/// </remarks>
internal sealed class StreamingJsonReader
{
    private const int InitialBufferSize = 1 << 20;

    private readonly Stream _stream;
    private readonly JsonReaderOptions _options;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;
    private JsonReaderState _state;

    // Line tracking for errors the JSON reader itself does not raise (wrong version, not a plan).
    // Positions only move forward, so newlines are counted once each: absolute offsets throughout.
    private long _bufferBase;
    private long _countedUpTo;
    private long _lines;
    private long _lastNewline = -1;

    public StreamingJsonReader(Stream stream, bool allowMultipleValues = false)
    {
        _stream = stream;
        _options = new JsonReaderOptions { AllowMultipleValues = allowMultipleValues, CommentHandling = JsonCommentHandling.Disallow };
        _state = new JsonReaderState(_options);
        _buffer = new byte[InitialBufferSize];
    }

    /// <summary>The type of the token last read by <see cref="Read"/>.</summary>
    public JsonTokenType TokenType { get; private set; } = JsonTokenType.None;

    /// <summary>The depth of the token last read.</summary>
    public int CurrentDepth { get; private set; }

    /// <summary>The unescaped text of the last string or property name token, or the raw text of a number/literal.</summary>
    public string? Text { get; private set; }

    /// <summary>Where the last token starts: 1-based line and column (in bytes).</summary>
    public (long Line, long Column) TokenPosition { get; private set; } = (1, 1);

    /// <summary>Reads the next token; false at the end of the input.</summary>
    public bool Read()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _eof, _state);
            if (reader.Read())
            {
                Capture(ref reader);
                Commit(ref reader);
                return true;
            }

            if (_eof)
            {
                return false;
            }

            Refill();
        }
    }

    /// <summary>Skips the value of the current token (after a property name, or a start token just read).</summary>
    public void Skip()
    {
        if (TokenType == JsonTokenType.PropertyName)
        {
            Read();
        }

        if (TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return;
        }

        var depth = CurrentDepth;
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _eof, _state);
            while (reader.Read())
            {
                if (reader.CurrentDepth == depth && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    TokenType = reader.TokenType;
                    CurrentDepth = reader.CurrentDepth;
                    Commit(ref reader);
                    return;
                }
            }

            Commit(ref reader);
            if (_eof)
            {
                // A final block that ends inside a value makes the reader throw; this is a guard.
                throw new JsonException("Unexpected end of JSON input.");
            }

            Refill();
        }
    }

    /// <summary>
    /// Reads the next whole value as a document. Returns null when the next token closes the
    /// enclosing array (which is consumed). The document borrows the buffer: dispose it before
    /// the next call.
    /// </summary>
    public JsonDocument? ReadValueDocument() => ReadValueBytes() is { } bytes ? JsonDocument.Parse(bytes) : null;

    /// <summary>
    /// Reads the next whole value and returns its bytes, or null when the next token closes the
    /// enclosing array. The bytes borrow the buffer: use them before the next call.
    /// </summary>
    public ReadOnlyMemory<byte>? ReadValueBytes()
    {
        while (true)
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            var reader = new Utf8JsonReader(span, _eof, _state);
            if (!reader.Read())
            {
                if (_eof)
                {
                    return null;
                }

                Refill();
                continue;
            }

            if (reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject)
            {
                Capture(ref reader);
                Commit(ref reader);
                return null;
            }

            var tokenStart = (int)reader.TokenStartIndex;
            var position = PositionOf(_start + tokenStart);
            if (!reader.TrySkip())
            {
                Refill();
                continue;
            }

            var length = (int)reader.BytesConsumed - tokenStart;
            var memory = new ReadOnlyMemory<byte>(_buffer, _start + tokenStart, length);
            TokenType = reader.TokenType;
            CurrentDepth = reader.CurrentDepth;
            TokenPosition = position;
            Commit(ref reader);
            return memory;
        }
    }

    /// <summary>
    /// The unread bytes, for a caller that parses a value in place with its own
    /// <see cref="Utf8JsonReader"/> (built from <see cref="State"/> and <see cref="IsFinalBlock"/>).
    /// Borrowed: valid until <see cref="FetchMore"/> or any read.
    /// </summary>
    public ReadOnlyMemory<byte> Window => new(_buffer, _start, _end - _start);

    /// <summary>True when <see cref="Window"/> holds the rest of the input.</summary>
    public bool IsFinalBlock => _eof;

    /// <summary>The reader state to continue from at the start of <see cref="Window"/>.</summary>
    public JsonReaderState State => _state;

    /// <summary>Sets <see cref="TokenPosition"/> to the byte at <paramref name="windowOffset"/> in <see cref="Window"/> (for error messages).</summary>
    public void MarkPosition(int windowOffset) => TokenPosition = PositionOf(_start + windowOffset);

    /// <summary>Consumes what <paramref name="reader"/> (built over <see cref="Window"/>) has read; its last token becomes the current one.</summary>
    public void Advance(ref Utf8JsonReader reader, bool captureText = false)
    {
        if (captureText)
        {
            Capture(ref reader);
        }
        else
        {
            TokenType = reader.TokenType;
            CurrentDepth = reader.CurrentDepth;
        }

        Commit(ref reader);
    }

    /// <summary>Keeps the unread bytes and reads more input after them (the window may move); false at the end of the input.</summary>
    public bool FetchMore()
    {
        if (_eof)
        {
            return false;
        }

        Refill();
        return true;
    }

    /// <summary>True when the input holds nothing but whitespace from here on.</summary>
    public bool AtEnd()
    {
        while (true)
        {
            var remaining = _buffer.AsSpan(_start, _end - _start);
            var trimmed = remaining.TrimStart(" \t\r\n"u8);
            if (!trimmed.IsEmpty)
            {
                return false;
            }

            if (_eof)
            {
                return true;
            }

            Refill();
        }
    }

    private void Capture(ref Utf8JsonReader reader)
    {
        TokenType = reader.TokenType;
        CurrentDepth = reader.CurrentDepth;
        TokenPosition = PositionOf(_start + (int)reader.TokenStartIndex);
        Text = reader.TokenType switch
        {
            JsonTokenType.PropertyName or JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null => Encoding.UTF8.GetString(reader.ValueSpan),
            _ => null,
        };
    }

    private void Commit(ref Utf8JsonReader reader)
    {
        _start += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
    }

    private (long Line, long Column) PositionOf(int bufferIndex)
    {
        var absolute = _bufferBase + bufferIndex;
        if (absolute > _countedUpTo)
        {
            var pending = _buffer.AsSpan((int)(_countedUpTo - _bufferBase), (int)(absolute - _countedUpTo));
            var newlines = pending.Count((byte)'\n');
            if (newlines > 0)
            {
                _lines += newlines;
                _lastNewline = _countedUpTo + pending.LastIndexOf((byte)'\n');
            }

            _countedUpTo = absolute;
        }

        return (_lines + 1, absolute - _lastNewline);
    }

    private void Refill()
    {
        if (_start > 0)
        {
            PositionOf(_start);
            _bufferBase += _start;
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            // One value larger than the buffer (a huge resource_change): grow, it will be materialised anyway.
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _eof = true;
        }

        _end += read;
    }

    /// <summary>Absolute byte offset of the next unread byte (for diagnostics).</summary>
    public long BytesConsumed => _bufferBase + _start;
}
