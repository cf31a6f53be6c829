using System.Text;
using System.Text.Json;

using Airlock.Engines.Tofu;
using Airlock.Testing;

namespace Airlock.Engines.Tests;

/// <summary>`state pull` output read for its serial and lineage as it streams, on the real captured states and built edge cases.</summary>
public sealed class StateHeaderTests
{
    public static TheoryData<string> States() => [.. Directory.GetFiles(Path.Combine(RepoPaths.Shared, "fixtures", "state"), "*.tfstate").Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(States))]
    public async Task Every_captured_state_gives_the_serial_and_lineage_a_whole_parse_gives(string file)
    {
        var bytes = await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Shared, "fixtures", "state", file));
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        (long?, string?) expected = (
            root.TryGetProperty("serial", out var serial) ? serial.GetInt64() : null,
            root.TryGetProperty("lineage", out var lineage) ? lineage.GetString() : null);
        Assert.NotNull(expected.Item1);

        Assert.Equal(expected, await StateHeader.ReadAsync(new MemoryStream(bytes), CancellationToken.None));
        Assert.Equal(expected, await StateHeader.ReadAsync(new TrickleStream(bytes), CancellationToken.None));
    }

    [Fact]
    public async Task Fields_after_a_large_resources_array_and_a_string_longer_than_the_buffer_are_found()
    {
        var text = new StringBuilder("{\"version\":4,\"note\":\"").Append('x', 300_000).Append("\",\"resources\":[");
        for (var i = 0; i < 5_000; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"type\":\"null_resource\",\"instances\":[{\"attributes\":{\"serial\":99,\"lineage\":\"not-this\"}}]}");
        }

        var bytes = Encoding.UTF8.GetBytes(text.Append("],\"lineage\":\"8f3c\",\"serial\":12}").ToString());

        Assert.Equal((12L, "8f3c"), await StateHeader.ReadAsync(new MemoryStream(bytes), CancellationToken.None));
        Assert.Equal((12L, "8f3c"), await StateHeader.ReadAsync(new TrickleStream(bytes, chunk: 7), CancellationToken.None));
    }

    [Fact]
    public async Task Reading_stops_once_both_fields_are_known()
    {
        // A 40 MB state whose header comes first, as tofu writes it: the rest is never read.
        var header = "{\"version\":4,\"terraform_version\":\"1.8.2\",\"serial\":7,\"lineage\":\"abc\",\"resources\":["u8.ToArray();
        var stream = new CountingStream(header, fillerBytes: 40_000_000);

        Assert.Equal((7L, "abc"), await StateHeader.ReadAsync(stream, CancellationToken.None));
        Assert.True(stream.BytesRead < 1_000_000, $"read {stream.BytesRead} bytes");
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t\n")]
    public async Task Empty_output_means_no_state_yet(string output)
    {
        Assert.Equal(((long?)null, (string?)null), await StateHeader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(output)), CancellationToken.None));
    }

    [Theory]
    [InlineData("{\"version\":4,\"serial\":3,\"lin")]
    [InlineData("[]")]
    [InlineData("{\"serial\":\"three\",\"lineage\":\"x\"}")]
    [InlineData("Error: state locked")]
    public async Task Output_that_is_not_a_state_is_a_json_error(string output)
    {
        await Assert.ThrowsAnyAsync<JsonException>(() => StateHeader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(output)), CancellationToken.None));
    }

    /// <summary>Hands out a few bytes per read, as a pipe may: every token can straddle two reads.</summary>
    private sealed class TrickleStream(byte[] bytes, int chunk = 1) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }

    /// <summary>A header, then filler bytes (never valid JSON, never materialised), counting what was read.</summary>
    private sealed class CountingStream(byte[] header, long fillerBytes) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => header.Length + fillerBytes;

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, Length - BytesRead);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = BytesRead + i < header.Length ? header[BytesRead + i] : (byte)'{';
            }

            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
