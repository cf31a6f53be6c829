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
        catch (JsonException e)
        {
            throw PlanParseException.FromJson(e);
        }

        hashing.CopyTo(Stream.Null);
        return kind == PlanArtifactKind.AirlockSummary ? summary : summary with { ArtifactDigest = hashing.Digest() };
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
    /// Hashes every byte read through it, so the artifact digest costs no second pass. SHA-256 runs
    /// on another thread, fed through a small bounded queue, so hashing overlaps parsing.
    /// </summary>
    private sealed class HashingReadStream : ForwardReadStream
    {
        private const int QueueDepth = 2;
        private readonly Stream _inner;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly System.Collections.Concurrent.BlockingCollection<(byte[] Buffer, int Length)> _queue = new(QueueDepth);
        private readonly Task _hasher;

        public HashingReadStream(Stream inner)
        {
            _inner = inner;
            _hasher = Task.Factory.StartNew(
                () =>
                {
                    foreach (var (buffer, length) in _queue.GetConsumingEnumerable())
                    {
                        _hash.AppendData(buffer, 0, length);
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        public string Digest()
        {
            _queue.CompleteAdding();
            _hasher.GetAwaiter().GetResult();
            return "sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset());
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
                if (!_queue.IsAddingCompleted)
                {
                    _queue.CompleteAdding();
                }

                _hasher.GetAwaiter().GetResult();
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
