using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Airlock.Domain.Evidence;

/// <summary>
/// The hash chain rule: a record's hash is sha256 over the canonical JSON of
/// {sequence, kind, run_id, recorded_at, payload, previous_hash}; the first record links to <see cref="GenesisHash"/>.
/// </summary>
public static class EvidenceChain
{
    /// <summary>The previous hash of the first record.</summary>
    public const string GenesisHash = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Record kind of a run event.</summary>
    public const string RunEventKind = "run_event";

    /// <summary>Record kind of an evidence packet.</summary>
    public const string PacketKind = "evidence_packet";

    // Same writer settings as CanonicalJson so the hand-ordered writer below produces byte-identical output.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    [ThreadStatic]
    private static Utf8JsonWriter? scratchWriter;

    /// <summary>
    /// Truncates to whole microseconds in UTC: PostgreSQL keeps microseconds, so a time that survives
    /// every backend unchanged keeps the hash stable.
    /// </summary>
    public static DateTimeOffset NormalizeTime(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>The canonical text of a record time: UTC, microseconds, "Z".</summary>
    public static string FormatTime(DateTimeOffset time) =>
        NormalizeTime(time).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses <see cref="FormatTime"/> output (and any ISO 8601 time with an offset).</summary>
    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var exact)
            ? exact
            : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>The hash a record must carry.</summary>
    public static string ComputeHash(ChainRecord record) =>
        ComputeHash(record.Sequence, record.Kind, record.RunId, record.RecordedAt, record.Payload, record.PreviousHash);

    /// <summary>
    /// The hash of a record's fields. <paramref name="canonicalPayload"/> must already be canonical JSON
    /// (as every appended payload is); it is embedded verbatim, so any byte change to it changes the hash.
    /// </summary>
    public static string ComputeHash(long sequence, string kind, string? runId, DateTimeOffset recordedAt, string canonicalPayload, string previousHash) =>
        ComputeHash(sequence, kind, runId, recordedAt, canonicalPayload, default, previousHash);

    /// <summary>The same hash with the payload given as UTF-8 bytes (file verification skips decoding it to a string).</summary>
    internal static string ComputeHash(long sequence, string kind, string? runId, DateTimeOffset recordedAt, ReadOnlySpan<byte> canonicalPayloadUtf8, string previousHash) =>
        ComputeHash(sequence, kind, runId, recordedAt, null, canonicalPayloadUtf8, previousHash);

    private static string ComputeHash(long sequence, string kind, string? runId, DateTimeOffset recordedAt, string? payloadText, ReadOnlySpan<byte> payloadUtf8, string previousHash)
    {
        var buffer = scratch ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();

        // One writer per thread, reset per record: hashing is the hot loop of verification.
        var writer = scratchWriter ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        {
            // Keys in ordinal order, exactly as CanonicalJson sorts them.
            writer.WriteStartObject();
            writer.WriteString("kind", kind);
            writer.WritePropertyName("payload");
            if (payloadText is not null)
            {
                writer.WriteRawValue(payloadText, skipInputValidation: true);
            }
            else
            {
                writer.WriteRawValue(payloadUtf8, skipInputValidation: true);
            }
            writer.WriteString("previous_hash", previousHash);
            writer.WriteString("recorded_at", FormatTime(recordedAt));
            if (runId is null)
            {
                writer.WriteNull("run_id");
            }
            else
            {
                writer.WriteString("run_id", runId);
            }

            writer.WriteNumber("sequence", sequence);
            writer.WriteEndObject();
            writer.Flush();
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer.WrittenSpan, digest);
        return "sha256:" + Convert.ToHexStringLower(digest);
    }

    /// <summary>Builds the record that follows <paramref name="head"/> (null for an empty chain).</summary>
    public static ChainRecord CreateNext(ChainRecord? head, string kind, string? runId, DateTimeOffset recordedAt, string canonicalPayload)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        var sequence = (head?.Sequence ?? 0) + 1;
        var previousHash = head?.Hash ?? GenesisHash;
        var time = NormalizeTime(recordedAt);
        var hash = ComputeHash(sequence, kind, runId, time, canonicalPayload, previousHash);
        return new ChainRecord(sequence, kind, runId, time, canonicalPayload, previousHash, hash);
    }

    /// <summary>Checks a payload is canonical JSON (what <see cref="ComputeHash(ChainRecord)"/> assumes).</summary>
    public static bool IsCanonical(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        return Encoding.UTF8.GetString(Serialization.CanonicalJson.ToUtf8Bytes(document.RootElement)) == payload;
    }
}
