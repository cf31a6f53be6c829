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
    public static EvidenceLine ParseLine(ReadOnlySpan<byte> line, long lineNumber)
    {
        try
        {
            return ParseLineCore(line, lineNumber);
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
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var start = 0;
            var end = 0;
            long lineNumber = 0;
            var eof = false;
            while (true)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                newline = newline < 0 ? -1 : newline - start;
                if (newline < 0)
                {
                    if (eof)
                    {
                        if (end > start && !ignoreIncompleteLastLine)
                        {
                            lineNumber++;
                            var last = ParseCompleteLine(buffer, start, end - start, lineNumber);
                            if (last is not null)
                            {
                                yield return last;
                            }
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
                var parsed = ParseCompleteLine(buffer, start, newline, lineNumber);
                start += newline + 1;
                if (parsed is not null)
                {
                    yield return parsed;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static EvidenceLine? ParseCompleteLine(byte[] buffer, int start, int length, long lineNumber)
    {
        var line = buffer.AsSpan(start, length);
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        return line.IsWhiteSpace() ? null : ParseLine(line, lineNumber);
    }

    private static bool IsWhiteSpace(this ReadOnlySpan<byte> span) => span.IndexOfAnyExcept(" \t\r"u8) < 0;

    private static EvidenceLine ParseLineCore(ReadOnlySpan<byte> line, long lineNumber)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new EvidenceFormatException(lineNumber, "expected a JSON object");
        }

        string? type = null, kind = null, runId = null, recordedAt = null, previousHash = null, hash = null, payload = null;
        string? headHash = null, keyId = null, algorithm = null, signedAt = null, signature = null, format = null, exportedAt = null;
        long? sequence = null, recordCount = null, fromSequence = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            if (!seen.Add(name))
            {
                throw new EvidenceFormatException(lineNumber, $"duplicate member \"{name}\"");
            }

            reader.Read();
            switch (name)
            {
                case "type": type = reader.GetString(); break;
                case "sequence": sequence = reader.GetInt64(); break;
                case "kind": kind = reader.GetString(); break;
                case "run_id": runId = reader.TokenType == JsonTokenType.Null ? null : reader.GetString(); break;
                case "recorded_at": recordedAt = reader.GetString(); break;
                case "payload":
                    var payloadStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    payload = Encoding.UTF8.GetString(line[payloadStart..(int)reader.BytesConsumed]);
                    break;
                case "previous_hash": previousHash = reader.GetString(); break;
                case "hash": hash = reader.GetString(); break;
                case "record_count": recordCount = reader.GetInt64(); break;
                case "head_hash": headHash = reader.GetString(); break;
                case "key_id": keyId = reader.GetString(); break;
                case "algorithm": algorithm = reader.GetString(); break;
                case "signed_at": signedAt = reader.GetString(); break;
                case "signature": signature = reader.GetString(); break;
                case "format": format = reader.GetString(); break;
                case "from_sequence": fromSequence = reader.GetInt64(); break;
                case "exported_at": exportedAt = reader.GetString(); break;
                default: throw new EvidenceFormatException(lineNumber, $"unknown member \"{name}\"");
            }
        }

        switch (type)
        {
            case "record":
                Require(lineNumber, ("sequence", sequence), ("kind", kind), ("recorded_at", recordedAt), ("payload", payload), ("previous_hash", previousHash), ("hash", hash));
                if (!seen.Contains("run_id"))
                {
                    throw new EvidenceFormatException(lineNumber, "record is missing \"run_id\"");
                }

                return new RecordLine(lineNumber, new ChainRecord(sequence!.Value, kind!, runId, EvidenceChain.ParseTime(recordedAt!), payload!, previousHash!, hash!));
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
