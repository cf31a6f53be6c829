using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Airlock.Domain.Evidence;

/// <summary>One parsed line of an evidence NDJSON file.</summary>
/// <param name="LineNumber">1-based line number in the file.</param>
public abstract record EvidenceLine(long LineNumber);

/// <summary>A "record" line.</summary>
public sealed record RecordLine(long LineNumber, ChainRecord Record) : EvidenceLine(LineNumber);

/// <summary>A "checkpoint" line.</summary>
public sealed record CheckpointLine(long LineNumber, SignedCheckpoint Checkpoint) : EvidenceLine(LineNumber);

/// <summary>The "header" line that opens an export.</summary>
public sealed record HeaderLine(long LineNumber, string Format, long FromSequence, DateTimeOffset ExportedAt) : EvidenceLine(LineNumber);

/// <summary>A line that is not valid evidence NDJSON.</summary>
public sealed class EvidenceFormatException(long lineNumber, string message) : FormatException(message)
{
    /// <summary>1-based line number of the bad line.</summary>
    public long LineNumber { get; } = lineNumber;
}

/// <summary>
/// The evidence NDJSON format (export, offline verification and the file-backed log): one JSON object per line,
/// "type" first: "header", "record" (the chain record, payload embedded as JSON) or "checkpoint".
/// </summary>
public static class EvidenceNdjson
{
    /// <summary>The export format name written in the header line.</summary>
    public const string Format = "airlock.evidence.ndjson/v1";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>Appends the line (with its trailing newline) for <paramref name="record"/>.</summary>
    public static void WriteRecord(IBufferWriter<byte> output, ChainRecord record)
    {
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "record");
            writer.WriteNumber("sequence", record.Sequence);
            writer.WriteString("kind", record.Kind);
            if (record.RunId is null)
            {
                writer.WriteNull("run_id");
            }
            else
            {
                writer.WriteString("run_id", record.RunId);
            }

            writer.WriteString("recorded_at", EvidenceChain.FormatTime(record.RecordedAt));
            writer.WritePropertyName("payload");
            writer.WriteRawValue(record.Payload, skipInputValidation: true);
            writer.WriteString("previous_hash", record.PreviousHash);
            writer.WriteString("hash", record.Hash);
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>Appends the line for <paramref name="checkpoint"/>.</summary>
    public static void WriteCheckpoint(IBufferWriter<byte> output, SignedCheckpoint checkpoint)
    {
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "checkpoint");
            writer.WriteNumber("sequence", checkpoint.Sequence);
            writer.WriteNumber("record_count", checkpoint.RecordCount);
            writer.WriteString("head_hash", checkpoint.HeadHash);
            writer.WriteString("key_id", checkpoint.KeyId);
            writer.WriteString("algorithm", checkpoint.Algorithm);
            writer.WriteString("signed_at", EvidenceChain.FormatTime(checkpoint.SignedAt));
            writer.WriteString("signature", checkpoint.Signature);
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>Appends the header line of an export.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, long fromSequence, DateTimeOffset exportedAt)
    {
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "header");
            writer.WriteString("format", Format);
            writer.WriteNumber("from_sequence", fromSequence);
            writer.WriteString("exported_at", EvidenceChain.FormatTime(exportedAt));
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>The record line as a string (without the newline).</summary>
    public static string RecordToString(ChainRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteRecord(buffer, record);
        return Encoding.UTF8.GetString(buffer.WrittenSpan[..^1]);
    }

    /// <summary>Parses one line (without its newline). Throws <see cref="EvidenceFormatException"/> when it is not valid.</summary>
    public static EvidenceLine ParseLine(ReadOnlySpan<byte> line, long lineNumber) => ParseLine(line, lineNumber, forVerification: false, out _);

    /// <summary>
    /// Parses one line. With <paramref name="forVerification"/>, a record's hash is computed straight from the line's
    /// payload bytes and the returned record's payload is left empty: verification needs the hash, not the text.
    /// </summary>
    internal static EvidenceLine ParseLine(ReadOnlySpan<byte> line, long lineNumber, bool forVerification, out string? computedHash)
    {
        try
        {
            return ParseLineCore(line, lineNumber, forVerification, out computedHash);
        }
        catch (JsonException ex)
        {
            throw new EvidenceFormatException(lineNumber, "not valid JSON: " + ex.Message);
        }
        catch (FormatException ex) when (ex is not EvidenceFormatException)
        {
            throw new EvidenceFormatException(lineNumber, ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            throw new EvidenceFormatException(lineNumber, "unexpected value type: " + ex.Message);
        }
    }

    /// <summary>Streams the parsed lines of <paramref name="stream"/>; blank lines are skipped, a bad line throws.</summary>
    public static IAsyncEnumerable<EvidenceLine> ReadAsync(Stream stream, CancellationToken cancellationToken) =>
        ReadAsync(stream, ignoreIncompleteLastLine: false, cancellationToken);

    /// <summary>
    /// Streams the parsed lines of <paramref name="stream"/>. With <paramref name="ignoreIncompleteLastLine"/>, a last
    /// line without its newline is skipped: a live log may be mid-append, and a line is committed only with its newline.
    /// </summary>
    public static async IAsyncEnumerable<EvidenceLine> ReadAsync(Stream stream, bool ignoreIncompleteLastLine, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in ReadBatchesAsync(stream, ignoreIncompleteLastLine, 1024, cancellationToken))
        {
            for (var i = 0; i < batch.Count; i++)
            {
                yield return batch.Parse(i);
            }
        }
    }

    /// <summary>Splits the stream into batches of raw non-blank lines, so callers can parse and hash a batch in parallel.</summary>
    internal static async IAsyncEnumerable<LineBatch> ReadBatchesAsync(Stream stream, bool ignoreIncompleteLastLine, int maxLines, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var start = 0;
            var end = 0;
            long lineNumber = 0;
            var eof = false;
            var batch = new LineBatch(maxLines);
            while (true)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                if (newline < 0)
                {
                    if (eof)
                    {
                        if (end > start && !ignoreIncompleteLastLine)
                        {
                            lineNumber++;
                            batch.Add(buffer, start, end - start, lineNumber);
                        }

                        if (batch.Count > 0)
                        {
                            yield return batch;
                        }

                        yield break;
                    }

                    // Move the partial line to the front (grow when one line fills the buffer), then read more.
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                    else if (end == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, bigger, 0, end);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
                    if (read == 0)
                    {
                        eof = true;
                    }

                    end += read;
                    continue;
                }

                lineNumber++;
                batch.Add(buffer, start, newline - start, lineNumber);
                start = newline + 1;
                if (batch.Count == maxLines)
                {
                    yield return batch;
                    batch = new LineBatch(maxLines);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static bool IsWhiteSpace(this ReadOnlySpan<byte> span) => span.IndexOfAnyExcept(" \t\r"u8) < 0;

    private static EvidenceLine ParseLineCore(ReadOnlySpan<byte> line, long lineNumber, bool forVerification, out string? computedHash)
    {
        computedHash = null;
        var payloadRange = default(Range);
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new EvidenceFormatException(lineNumber, "expected a JSON object");
        }

        string? type = null, kind = null, runId = null, recordedAt = null, previousHash = null, hash = null, payload = null;
        string? headHash = null, keyId = null, algorithm = null, signedAt = null, signature = null, format = null, exportedAt = null;
        long? sequence = null, recordCount = null, fromSequence = null;
        var seen = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            // Member names are matched on the raw bytes: verifying a million lines must not allocate a string per name.
            var member = Member(reader.ValueSpan, reader.ValueIsEscaped);
            if (member < 0)
            {
                throw new EvidenceFormatException(lineNumber, $"unknown member \"{reader.GetString()}\"");
            }

            if ((seen & (1 << member)) != 0)
            {
                throw new EvidenceFormatException(lineNumber, $"duplicate member \"{reader.GetString()}\"");
            }

            seen |= 1 << member;
            reader.Read();
            switch (member)
            {
                case 0: type = reader.GetString(); break;
                case 1: sequence = reader.GetInt64(); break;
                case 2: kind = reader.GetString(); break;
                case 3: runId = reader.TokenType == JsonTokenType.Null ? null : reader.GetString(); break;
                case 4: recordedAt = reader.GetString(); break;
                case 5:
                    var payloadStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    payloadRange = payloadStart..(int)reader.BytesConsumed;
                    payload = forVerification ? string.Empty : Encoding.UTF8.GetString(line[payloadRange]);
                    break;
                case 6: previousHash = reader.GetString(); break;
                case 7: hash = reader.GetString(); break;
                case 8: recordCount = reader.GetInt64(); break;
                case 9: headHash = reader.GetString(); break;
                case 10: keyId = reader.GetString(); break;
                case 11: algorithm = reader.GetString(); break;
                case 12: signedAt = reader.GetString(); break;
                case 13: signature = reader.GetString(); break;
                case 14: format = reader.GetString(); break;
                case 15: fromSequence = reader.GetInt64(); break;
                default: exportedAt = reader.GetString(); break;
            }
        }

        switch (type)
        {
            case "record":
                Require(lineNumber, ("sequence", sequence), ("kind", kind), ("recorded_at", recordedAt), ("payload", payload), ("previous_hash", previousHash), ("hash", hash));
                if ((seen & (1 << 3)) == 0)
                {
                    throw new EvidenceFormatException(lineNumber, "record is missing \"run_id\"");
                }

                var record = new ChainRecord(sequence!.Value, kind!, runId, EvidenceChain.ParseTime(recordedAt!), payload!, previousHash!, hash!);
                if (forVerification)
                {
                    computedHash = EvidenceChain.ComputeHash(record.Sequence, record.Kind, record.RunId, record.RecordedAt, line[payloadRange], record.PreviousHash);
                }

                return new RecordLine(lineNumber, record);
            case "checkpoint":
                Require(lineNumber, ("sequence", sequence), ("record_count", recordCount), ("head_hash", headHash), ("key_id", keyId), ("algorithm", algorithm), ("signed_at", signedAt), ("signature", signature));
                return new CheckpointLine(lineNumber, new SignedCheckpoint(sequence!.Value, recordCount!.Value, headHash!, keyId!, algorithm!, signature!, EvidenceChain.ParseTime(signedAt!)));
            case "header":
                Require(lineNumber, ("format", format), ("from_sequence", fromSequence), ("exported_at", exportedAt));
                if (format != Format)
                {
                    throw new EvidenceFormatException(lineNumber, $"unsupported export format \"{format}\" (expected \"{Format}\")");
                }

                return new HeaderLine(lineNumber, format!, fromSequence!.Value, EvidenceChain.ParseTime(exportedAt!));
            case null:
                throw new EvidenceFormatException(lineNumber, "missing \"type\"");
            default:
                throw new EvidenceFormatException(lineNumber, $"unknown line type \"{type}\"");
        }
    }

    private static int Member(ReadOnlySpan<byte> name, bool escaped)
    {
        if (escaped)
        {
            return -1;
        }

        return name switch
        {
            _ when name.SequenceEqual("type"u8) => 0,
            _ when name.SequenceEqual("sequence"u8) => 1,
            _ when name.SequenceEqual("kind"u8) => 2,
            _ when name.SequenceEqual("run_id"u8) => 3,
            _ when name.SequenceEqual("recorded_at"u8) => 4,
            _ when name.SequenceEqual("payload"u8) => 5,
            _ when name.SequenceEqual("previous_hash"u8) => 6,
            _ when name.SequenceEqual("hash"u8) => 7,
            _ when name.SequenceEqual("record_count"u8) => 8,
            _ when name.SequenceEqual("head_hash"u8) => 9,
            _ when name.SequenceEqual("key_id"u8) => 10,
            _ when name.SequenceEqual("algorithm"u8) => 11,
            _ when name.SequenceEqual("signed_at"u8) => 12,
            _ when name.SequenceEqual("signature"u8) => 13,
            _ when name.SequenceEqual("format"u8) => 14,
            _ when name.SequenceEqual("from_sequence"u8) => 15,
            _ when name.SequenceEqual("exported_at"u8) => 16,
            _ => -1,
        };
    }

    private static void Require(long lineNumber, params (string Name, object? Value)[] members)
    {
        foreach (var (name, value) in members)
        {
            if (value is null)
            {
                throw new EvidenceFormatException(lineNumber, $"missing \"{name}\"");
            }
        }
    }
}

/// <summary>A batch of raw lines copied out of the read buffer (blank lines dropped, "\r" trimmed).</summary>
internal sealed class LineBatch(int capacity)
{
    private readonly int[] starts = new int[capacity];
    private readonly int[] lengths = new int[capacity];
    private readonly long[] lineNumbers = new long[capacity];
    private byte[] data = new byte[64 * 1024];
    private int used;

    public int Count { get; private set; }

    public void Add(byte[] source, int start, int length, long lineNumber)
    {
        var line = source.AsSpan(start, length);
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.IsWhiteSpace())
        {
            return;
        }

        if (used + line.Length > data.Length)
        {
            Array.Resize(ref data, Math.Max(data.Length * 2, used + line.Length));
        }

        line.CopyTo(data.AsSpan(used));
        starts[Count] = used;
        lengths[Count] = line.Length;
        lineNumbers[Count] = lineNumber;
        used += line.Length;
        Count++;
    }

    public EvidenceLine Parse(int index) => EvidenceNdjson.ParseLine(data.AsSpan(starts[index], lengths[index]), lineNumbers[index]);

    public EvidenceLine ParseForVerification(int index, out string? computedHash) =>
        EvidenceNdjson.ParseLine(data.AsSpan(starts[index], lengths[index]), lineNumbers[index], forVerification: true, out computedHash);
}
