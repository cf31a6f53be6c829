using System.Security.Cryptography;

namespace Airlock.Store.Plans;

/// <summary>
/// The AES-256 key that encrypts plan artifacts at rest, with a short id so a rotated key is recognisable.
/// Never logged: <see cref="ToString"/> shows only the id.
/// </summary>
public sealed class PlanKey
{
    private PlanKey(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException($"a plan key must be 32 bytes (AES-256), got {key.Length}");
        }

        Bytes = key;
        KeyId = "k-" + Convert.ToHexStringLower(SHA256.HashData(key))[..16];
    }

    /// <summary>Short non-secret identifier derived from the key.</summary>
    public string KeyId { get; }

    internal byte[] Bytes { get; }

    /// <summary>A key given as base64 (e.g. from AIRLOCK_PLAN_KEY).</summary>
    /// <exception cref="ArgumentException">Not base64 of 32 bytes.</exception>
    public static PlanKey FromBase64(string base64)
    {
        try
        {
            return new PlanKey(Convert.FromBase64String(base64.Trim()));
        }
        catch (FormatException)
        {
            throw new ArgumentException("the plan key is not valid base64");
        }
    }

    /// <summary>
    /// Reads the key file, creating it with a fresh random key and mode 0600 when missing. Creation is exclusive,
    /// so two processes starting together end up with the same key.
    /// </summary>
    public static PlanKey LoadOrCreate(string keyFile)
    {
        ArgumentNullException.ThrowIfNull(keyFile);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);
        if (!File.Exists(keyFile))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var stream = new FileStream(keyFile, options))
                using (var writer = new StreamWriter(stream))
                {
                    writer.Write(Convert.ToBase64String(fresh));
                }
            }
            catch (IOException) when (File.Exists(keyFile))
            {
                // Another process created it first; use theirs.
            }
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyFile) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            throw new UnauthorizedAccessException($"plan key file {keyFile} is readable by group or others; chmod 600 it");
        }

        for (var attempt = 0; ; attempt++)
        {
            var text = File.ReadAllText(keyFile);
            // A concurrent creator may not have finished writing; an empty read is retried briefly.
            if (text.Length > 0 || attempt >= 50)
            {
                return FromBase64(text);
            }

            Thread.Sleep(10);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"PlanKey({KeyId})";
}
