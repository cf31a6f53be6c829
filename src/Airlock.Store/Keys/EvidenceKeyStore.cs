using Airlock.Domain.Evidence;

namespace Airlock.Store.Keys;

/// <summary>
/// The installation's evidence signing key on disk: a PKCS#8 PEM private key created on first use with mode 0600
/// (directory 0700), and a keyring file of every public key ever used, so checkpoints signed before a rotation
/// stay verifiable.
/// </summary>
public sealed class EvidenceKeyStore(string directory)
{
    /// <summary>The private key file.</summary>
    public string PrivateKeyPath { get; } = Path.Combine(Path.GetFullPath(directory), "evidence-signing.key.pem");

    /// <summary>The public keyring file (current and retired keys).</summary>
    public string KeyringPath { get; } = Path.Combine(Path.GetFullPath(directory), "evidence-keyring.pub.pem");

    /// <summary>Loads a configured private key file (never creates it); refuses one that others can read.</summary>
    public static EcdsaCheckpointSigner LoadSigner(string privateKeyPath)
    {
        if (!File.Exists(privateKeyPath))
        {
            throw new FileNotFoundException($"evidence signing key {privateKeyPath} does not exist", privateKeyPath);
        }

        SecretFile.EnsureOwnerOnly(privateKeyPath, "evidence signing key");

        try
        {
            return EcdsaCheckpointSigner.FromPrivateKeyPem(File.ReadAllText(privateKeyPath));
        }
        catch (Exception ex) when (ex is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidDataException($"evidence signing key {privateKeyPath} is not an ECDSA P-256 private key PEM", ex);
        }
    }

    /// <summary>The signer, creating the key on first use. Safe when several processes start at once.</summary>
    public EcdsaCheckpointSigner LoadOrCreateSigner()
    {
        if (!File.Exists(PrivateKeyPath))
        {
            using var fresh = EcdsaCheckpointSigner.Generate();
            if (WriteKey(fresh, overwrite: false))
            {
                AppendToKeyring(fresh.ExportPublicKeyPem());
            }
        }

        var signer = LoadSigner(PrivateKeyPath);
        EnsureInKeyring(signer);
        return signer;
    }

    /// <summary>Replaces the signing key with a new one; the old public key stays in the keyring.</summary>
    public EcdsaCheckpointSigner Rotate()
    {
        using (LoadOrCreateSigner())
        {
            // Only ensures the current key is in the keyring before it is replaced.
        }

        var fresh = EcdsaCheckpointSigner.Generate();
        AppendToKeyring(fresh.ExportPublicKeyPem());
        WriteKey(fresh, overwrite: true);
        return fresh;
    }

    /// <summary>Every public key this installation has signed with.</summary>
    public EvidenceKeyring LoadKeyring()
    {
        if (!File.Exists(KeyringPath))
        {
            using var signer = LoadOrCreateSigner();
        }

        return EvidenceKeyring.FromPem(File.ReadAllText(KeyringPath));
    }

    private void EnsureInKeyring(EcdsaCheckpointSigner signer)
    {
        if (File.Exists(KeyringPath))
        {
            using var keyring = EvidenceKeyring.FromPem(File.ReadAllText(KeyringPath));
            if (keyring.Contains(signer.KeyId))
            {
                return;
            }
        }

        AppendToKeyring(signer.ExportPublicKeyPem());
    }

    private void AppendToKeyring(string publicKeyPem) => File.AppendAllText(KeyringPath, publicKeyPem + "\n");

    /// <summary>Writes the key with mode 0600; returns false when another process won the race.</summary>
    private bool WriteKey(EcdsaCheckpointSigner signer, bool overwrite) => SecretFile.Write(PrivateKeyPath, signer.ExportPrivateKeyPem(), overwrite);
}
