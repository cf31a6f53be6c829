using System.Security.Cryptography;
using System.Text.Json;

namespace Airlock.Domain.Plans;

/// <summary>What an artifact turned out to be.</summary>
public enum PlanArtifactKind
{
    /// <summary>`tofu/terraform show -json` output.</summary>
    TerraformPlan,

    /// <summary>Pulumi engine event stream (JSON Lines).</summary>
    PulumiEvents,

    /// <summary>An Airlock plan summary written by `airlock summarize --format json`.</summary>
    AirlockSummary,
}

/// <summary>Entry point: auto-detects the artifact kind, streams it once, and returns the summary with the artifact digest.</summary>
public static class PlanReader
{
    private const int DetectionPrefixBytes = 64 * 1024;

    /// <summary>Reads a plan artifact. Throws <see cref="PlanParseException"/> for bad input.</summary>
    public static PlanSummary Read(Stream stream, ResourceClassMap? classes = null)
    {
        classes ??= ResourceClassMap.Default;
        using var hashing = new HashingReadStream(stream);
        var prefix = new byte[DetectionPrefixBytes];
        var prefixLength = 0;
        int read;
        while (prefixLength < prefix.Length && (read = hashing.Read(prefix, prefixLength, prefix.Length - prefixLength)) > 0)
        {
            prefixLength += read;
        }

        var kind = Detect(prefix.AsSpan(0, prefixLength));
        using var input = new PrefixedStream(prefix, prefixLength, hashing);
        PlanSummary summary;
        try
        {
            summary = kind switch
            {
                PlanArtifactKind.PulumiEvents => PulumiEventReader.Read(input, classes),
                PlanArtifactKind.AirlockSummary => PlanSummaryJson.Read(input),
                _ => TerraformPlanReader.Read(input, classes),
            };
        }
        catch (Exception e) when (e is JsonException or PlanParseException or InvalidOperationException)
        {
            // JSON readers accept any bytes inside strings; decoding them fails later, anywhere. Invalid
            // UTF-8 at or before the reported problem is the first thing wrong with the file.
            var error = e as PlanParseException ?? (e is JsonException json ? PlanParseException.FromJson(json) : null);
            if (hashing.InvalidUtf8() is { } invalid && (error is null || (invalid.Line, invalid.Column).CompareTo((error.Line, error.Column)) <= 0))
            {
                throw invalid;
            }

            if (error is null)
            {
                throw;
            }

            throw error;
        }

        hashing.CopyTo(Stream.Null);
        var digest = hashing.Digest();
        if (hashing.InvalidUtf8() is { } invalidAfter)
        {
            throw invalidAfter;
        }

        return kind == PlanArtifactKind.AirlockSummary ? summary : summary with { ArtifactDigest = digest };
    }

    /// <summary>Guesses the artifact kind from its first bytes; anything unrecognised is read as a Terraform plan (which reports what is wrong).</summary>
    public static PlanArtifactKind Detect(ReadOnlySpan<byte> prefix)
    {
        try
        {
            var reader = new Utf8JsonReader(prefix, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { AllowMultipleValues = true }));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject || !reader.Read() || reader.TokenType != JsonTokenType.PropertyName)
            {
                return PlanArtifactKind.TerraformPlan;
            }

            var name = reader.GetString()!;
            if (name is "sequence" or "timestamp" || name.EndsWith("Event", StringComparison.Ordinal))
            {
                return PlanArtifactKind.PulumiEvents;
            }

            if (name == "schema" && reader.Read() && reader.TokenType == JsonTokenType.String && reader.GetString() == PlanSummaryJson.Schema)
            {
                return PlanArtifactKind.AirlockSummary;
            }
        }
        catch (JsonException)
        {
            // Malformed input: the Terraform reader reports it with its position.
        }

        return PlanArtifactKind.TerraformPlan;
    }

    /// <summary>
    /// Hashes every byte read through it, so the artifact digest costs no second pass, and checks
    /// that the bytes are UTF-8 (RFC 8259 requires it; the JSON readers do not look inside strings).
    /// Both run on another thread, fed through a small bounded queue, so they overlap parsing.
    /// </summary>
    private sealed class HashingReadStream : ForwardReadStream
    {
        private const int QueueDepth = 2;
        private readonly Stream _inner;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly System.Collections.Concurrent.BlockingCollection<(byte[] Buffer, int Length)> _queue = new(QueueDepth);
        private readonly Task _hasher;
        private readonly System.Text.Decoder _utf8 = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
        private long _offset;
        private long _lines;
        private long _lastNewline = -1;
        private PlanParseException? _invalidUtf8;

        public HashingReadStream(Stream inner)
        {
            _inner = inner;
            _hasher = Task.Factory.StartNew(
                () =>
                {
                    foreach (var (buffer, length) in _queue.GetConsumingEnumerable())
                    {
                        _hash.AppendData(buffer, 0, length);
                        CheckUtf8(buffer.AsSpan(0, length), flush: false);
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }

                    CheckUtf8([], flush: true);
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        public string Digest()
        {
            Complete();
            return "sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset());
        }

        /// <summary>The first invalid UTF-8 among the bytes read so far (waits for the checking thread), or null.</summary>
        public PlanParseException? InvalidUtf8()
        {
            Complete();
            return _invalidUtf8;
        }

        private void Complete()
        {
            if (!_queue.IsAddingCompleted)
            {
                _queue.CompleteAdding();
            }

            _hasher.GetAwaiter().GetResult();
        }

        // The decoder keeps a sequence cut by a chunk's end for the next chunk.
        private void CheckUtf8(ReadOnlySpan<byte> chunk, bool flush)
        {
            if (_invalidUtf8 is not null)
            {
                return;
            }

            try
            {
                _utf8.GetCharCount(chunk, flush);
            }
            catch (System.Text.DecoderFallbackException e)
            {
                // Index is where the bad sequence starts, negative when it began in the previous chunk.
                var at = Math.Clamp(e.Index, 0, chunk.Length);
                var before = chunk[..at];
                var newlines = before.Count((byte)'\n');
                var lastNewline = newlines > 0 ? _offset + before.LastIndexOf((byte)'\n') : _lastNewline;
                _invalidUtf8 = new PlanParseException(PlanErrorKind.Malformed, "malformed JSON: invalid UTF-8 (JSON text must be UTF-8)", _lines + newlines + 1, _offset + at - lastNewline);
                return;
            }

            var count = chunk.Count((byte)'\n');
            if (count > 0)
            {
                _lines += count;
                _lastNewline = _offset + chunk.LastIndexOf((byte)'\n');
            }

            _offset += chunk.Length;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = _inner.Read(buffer, offset, count);
            if (read > 0)
            {
                var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(read);
                Buffer.BlockCopy(buffer, offset, copy, 0, read);
                _queue.Add((copy, read));
            }

            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Complete();
                _queue.Dispose();
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Replays the detection prefix, then continues with the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, int prefixLength, Stream rest) : ForwardReadStream
    {
        private int _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position < prefixLength)
            {
                var n = Math.Min(count, prefixLength - _position);
                Buffer.BlockCopy(prefix, _position, buffer, offset, n);
                _position += n;
                return n;
            }

            return rest.Read(buffer, offset, count);
        }
    }

    /// <summary>A read-only, forward-only stream: the one shape both wrappers above need.</summary>
    private abstract class ForwardReadStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
