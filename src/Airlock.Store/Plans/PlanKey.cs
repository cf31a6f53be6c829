using System.Security.Cryptography;

using Airlock.Store.Keys;

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
    /// Reads the key file, creating it with a fresh random key and mode 0600 when missing. Creation is atomic,
    /// so two processes starting together end up with the same key.
    /// </summary>
    public static PlanKey LoadOrCreate(string keyFile)
    {
        ArgumentNullException.ThrowIfNull(keyFile);
        if (!File.Exists(keyFile))
        {
            SecretFile.Write(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), overwrite: false);
        }

        SecretFile.EnsureOwnerOnly(keyFile, "plan key file");
        return FromBase64(File.ReadAllText(keyFile));
    }

    /// <inheritdoc />
    public override string ToString() => $"PlanKey({KeyId})";
}
