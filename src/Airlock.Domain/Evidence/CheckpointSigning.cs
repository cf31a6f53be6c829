using System.Security.Cryptography;
using System.Text.Json.Nodes;

using Airlock.Domain.Serialization;

namespace Airlock.Domain.Evidence;

/// <summary>Signs checkpoint bodies with the installation's key.</summary>
public interface ICheckpointSigner
{
    /// <summary>Fingerprint of the public key ("sha256:" + hex of its SubjectPublicKeyInfo).</summary>
    string KeyId { get; }

    /// <summary>Signature algorithm name written into each checkpoint.</summary>
    string Algorithm { get; }

    /// <summary>Signs <paramref name="data"/>.</summary>
    byte[] Sign(byte[] data);
}

/// <summary>What a checkpoint signs, and how.</summary>
public static class Checkpoints
{
    /// <summary>ECDSA over NIST P-256 with SHA-256, signature as IEEE P1363 (r||s), base64.</summary>
    public const string EcdsaP256Sha256 = "ecdsa-p256-sha256";

    /// <summary>The signed bytes: canonical JSON of {sequence, record_count, head_hash, key_id, signed_at}.</summary>
    public static byte[] Body(long sequence, long recordCount, string headHash, string keyId, DateTimeOffset signedAt) =>
        CanonicalJson.ToUtf8Bytes(new JsonObject
        {
            ["sequence"] = sequence,
            ["record_count"] = recordCount,
            ["head_hash"] = headHash,
            ["key_id"] = keyId,
            ["signed_at"] = EvidenceChain.FormatTime(signedAt),
        });

    /// <summary>Signs the chain head <paramref name="head"/> (which is record number head.Sequence, so the count equals it).</summary>
    public static SignedCheckpoint Sign(ICheckpointSigner signer, ChainRecord head, DateTimeOffset now)
    {
        var signedAt = EvidenceChain.NormalizeTime(now);
        var body = Body(head.Sequence, head.Sequence, head.Hash, signer.KeyId, signedAt);
        return new SignedCheckpoint(head.Sequence, head.Sequence, head.Hash, signer.KeyId, signer.Algorithm, Convert.ToBase64String(signer.Sign(body)), signedAt);
    }

    /// <summary>The key id of a public key: "sha256:" + hex of its DER SubjectPublicKeyInfo.</summary>
    public static string KeyIdOf(ECDsa key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
}

/// <summary>An ECDSA P-256 signing key held in memory (loading and storing key files is an adapter's job).</summary>
public sealed class EcdsaCheckpointSigner : ICheckpointSigner, IDisposable
{
    private readonly ECDsa key;

    private EcdsaCheckpointSigner(ECDsa key)
    {
        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException("evidence signing key must be ECDSA P-256", nameof(key));
        }

        this.key = key;
        KeyId = Checkpoints.KeyIdOf(key);
    }

    /// <inheritdoc/>
    public string KeyId { get; }

    /// <inheritdoc/>
    public string Algorithm => Checkpoints.EcdsaP256Sha256;

    /// <summary>A fresh random key.</summary>
    public static EcdsaCheckpointSigner Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Loads a private key from PEM text (PKCS#8 or SEC1).</summary>
    public static EcdsaCheckpointSigner FromPrivateKeyPem(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        return new EcdsaCheckpointSigner(key);
    }

    /// <inheritdoc/>
    public byte[] Sign(byte[] data) => key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>The private key as PKCS#8 PEM, for the key file.</summary>
    public string ExportPrivateKeyPem() => key.ExportPkcs8PrivateKeyPem();

    /// <summary>The public key as SubjectPublicKeyInfo PEM, for auditors.</summary>
    public string ExportPublicKeyPem() => key.ExportSubjectPublicKeyInfoPem();

    /// <inheritdoc/>
    public void Dispose() => key.Dispose();
}

/// <summary>The public keys a verifier trusts, by key id; holding retired keys keeps old checkpoints verifiable.</summary>
public sealed class EvidenceKeyring : IDisposable
{
    private readonly Dictionary<string, ECDsa> keys = new(StringComparer.Ordinal);

    /// <summary>An empty keyring (every checkpoint then fails as signed by an unknown key).</summary>
    public EvidenceKeyring()
    {
    }

    /// <summary>Ids of the trusted keys.</summary>
    public IReadOnlyCollection<string> KeyIds => keys.Keys;

    /// <summary>Reads every "PUBLIC KEY" block in <paramref name="pemText"/>; throws <see cref="FormatException"/> when there is none or one is invalid.</summary>
    public static EvidenceKeyring FromPem(string pemText)
    {
        var keyring = new EvidenceKeyring();
        try
        {
            keyring.AddPem(pemText);
            return keyring;
        }
        catch
        {
            keyring.Dispose();
            throw;
        }
    }

    /// <summary>Adds every "PUBLIC KEY" block in <paramref name="pemText"/>.</summary>
    public void AddPem(string pemText)
    {
        var remaining = pemText.AsSpan();
        var found = 0;
        while (PemEncoding.TryFind(remaining, out var fields))
        {
            var label = remaining[fields.Label];
            if (label.SequenceEqual("PUBLIC KEY"))
            {
                var key = ECDsa.Create();
                try
                {
                    key.ImportFromPem(remaining[fields.Location]);
                }
                catch (CryptographicException ex)
                {
                    key.Dispose();
                    throw new FormatException("not an ECDSA public key: " + ex.Message, ex);
                }

                Add(key);
                found++;
            }

            remaining = remaining[fields.Location.End..];
        }

        if (found == 0)
        {
            throw new FormatException("no PEM \"PUBLIC KEY\" block found");
        }
    }

    /// <summary>Trusts <paramref name="publicKey"/> (the keyring takes ownership).</summary>
    public void Add(ECDsa publicKey)
    {
        var id = Checkpoints.KeyIdOf(publicKey);
        if (!keys.TryAdd(id, publicKey))
        {
            publicKey.Dispose();
        }
    }

    /// <summary>Whether <paramref name="checkpoint"/>'s signature verifies under the key it names; false when the key is unknown.</summary>
    public bool VerifySignature(SignedCheckpoint checkpoint)
    {
        if (!keys.TryGetValue(checkpoint.KeyId, out var key) || checkpoint.Algorithm != Checkpoints.EcdsaP256Sha256)
        {
            return false;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(checkpoint.Signature);
        }
        catch (FormatException)
        {
            return false;
        }

        var body = Checkpoints.Body(checkpoint.Sequence, checkpoint.RecordCount, checkpoint.HeadHash, checkpoint.KeyId, checkpoint.SignedAt);
        return key.VerifyData(body, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Whether the keyring holds <paramref name="keyId"/>.</summary>
    public bool Contains(string keyId) => keys.ContainsKey(keyId);

    /// <summary>All public keys as concatenated PEM blocks.</summary>
    public string ExportPem() => string.Concat(keys.Values.Select(k => k.ExportSubjectPublicKeyInfoPem() + "\n"));

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }

        keys.Clear();
    }
}
