using System.Buffers;
using System.Security.Cryptography;

namespace Airlock.Domain.Serialization;

/// <summary>
/// SHA-256 of everything a <see cref="System.Text.Json.Utf8JsonWriter"/> writes into it, through
/// one reused buffer: a digest of a large document (a 100k-resource plan's summary or policy input)
/// without holding its bytes.
/// </summary>
internal sealed class HashingBufferWriter : IBufferWriter<byte>, IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _buffer = new byte[16 * 1024];

    public void Advance(int count) => _hash.AppendData(_buffer, 0, count);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (sizeHint > _buffer.Length)
        {
            _buffer = new byte[sizeHint];
        }

        return _buffer;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>"sha256:" + lowercase hex of what was written; starts over.</summary>
    public string Digest() => "sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset());

    public void Dispose() => _hash.Dispose();
}
