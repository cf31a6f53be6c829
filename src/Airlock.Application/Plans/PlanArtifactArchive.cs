using System.Formats.Tar;
using System.IO.Compression;

namespace Airlock.Application.Plans;

/// <summary>
/// Packs an engine's artifact directory (saved plan, plan JSON, event log) into one gzipped tar for
/// the encrypted plan store, and unpacks it for the apply. Only regular files directly in the directory.
/// </summary>
/// <remarks>
/// Compressed before it is encrypted (ciphertext does not compress): plan JSON shrinks ~10×, so a
/// 146 MB plan is stored, held and encrypted as ~15 MB instead of a 146 MB tar built in a growing
/// buffer. Archives stored before compression (a plain tar) still unpack.
/// </remarks>
public static class PlanArtifactArchive
{
    /// <summary>The directory's files as a gzipped tar.</summary>
    public static byte[] Pack(string directory)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                writer.WriteEntry(file, Path.GetFileName(file));
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Writes the archive's files into <paramref name="directory"/> (created), refusing any path that escapes it.</summary>
    public static void Unpack(ReadOnlyMemory<byte> archive, string directory)
    {
        Directory.CreateDirectory(directory);
        using var stored = new MemoryStream(archive.ToArray(), writable: false);
        using var input = IsGzip(archive.Span) ? new GZipStream(stored, CompressionMode.Decompress) : (Stream)stored;
        using var reader = new TarReader(input);
        while (reader.GetNextEntry() is { } entry)
        {
            var name = Path.GetFileName(entry.Name);
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || name != entry.Name || name.Length == 0)
            {
                throw new InvalidDataException($"plan archive entry '{entry.Name}' is not a plain file name");
            }

            entry.ExtractToFile(Path.Combine(directory, name), overwrite: true);
        }
    }

    // RFC 1952 magic and deflate method; a tar starts with an entry name, never these bytes.
    private static bool IsGzip(ReadOnlySpan<byte> archive) => archive is [0x1F, 0x8B, 0x08, ..];
}
