using System.Security.Cryptography;

namespace Airlock.Store.Plans;

/// <summary>AES-GCM for plan artifacts. The associated data binds the ciphertext to its plan's metadata, so
/// swapping artifacts between plans or editing the expiry is detected as tampering.</summary>
internal static class PlanArtifactCipher
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    public static (byte[] Nonce, byte[] Ciphertext, byte[] Tag) Encrypt(PlanKey key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        using var aes = new AesGcm(key.Bytes, TagSize);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        return (nonce, ciphertext, tag);
    }

    /// <summary>Decrypts; false when the key, ciphertext, tag or associated data do not match.</summary>
    public static bool TryDecrypt(PlanKey key, byte[] nonce, byte[] ciphertext, byte[] tag, ReadOnlySpan<byte> associatedData, out byte[] plaintext)
    {
        plaintext = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key.Bytes, TagSize);
            aes.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            // Wrong nonce or tag length: the row was altered.
            return false;
        }
    }
}
