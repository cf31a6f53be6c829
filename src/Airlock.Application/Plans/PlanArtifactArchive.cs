using System.Formats.Tar;

namespace Airlock.Application.Plans;

/// <summary>
/// Packs an engine's artifact directory (saved plan, plan JSON, event log) into one tar for the
/// encrypted plan store, and unpacks it for the apply. Only regular files directly in the directory.
/// </summary>
public static class PlanArtifactArchive
{
    /// <summary>The directory's files as a tar.</summary>
    public static byte[] Pack(string directory)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
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
        using var input = new MemoryStream(archive.ToArray(), writable: false);
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
}
