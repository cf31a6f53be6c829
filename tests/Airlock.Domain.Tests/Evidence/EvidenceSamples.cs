using System.Buffers;
using System.Text;

using Airlock.Domain.Evidence;

namespace Airlock.Domain.Tests.Evidence;

/// <summary>Realistic packets and chains for evidence tests.</summary>
internal static class EvidenceSamples
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    public static EvidencePacket Packet(
        string runId = "run-1",
        string stack = "network",
        string environment = "prod",
        string status = "succeeded",
        string? failureClass = null,
        string requester = "alice",
        DateTimeOffset? finishedAt = null,
        params string[] tags)
    {
        var finished = finishedAt ?? T0.AddMinutes(5);
        return new EvidencePacket(
            EvidencePacket.CurrentSchemaVersion,
            runId,
            1,
            new EvidenceSource("github.com/acme/infra", "3f2c1a9e0b7d4c6f8a1e2d3c4b5a69788796a5b4", "main", 412),
            new EvidenceTarget(stack, environment, "123456789012", "eu-west-1", "s3://acme-state/network/prod.tfstate"),
            new EvidenceAuthorisation("alice", [new EvidenceApproval("bob", finished.AddMinutes(-4))], "approvals/v3", null),
            new EvidenceExecution("runner-7", "opentofu", "1.8.5", "aws-prod-deployer", new Dictionary<string, string> { ["sub"] = "repo:acme/infra:ref:refs/heads/main", ["aud"] = "sts.amazonaws.com" }),
            new EvidencePlan("apply", "sha256:" + new string('a', 64), new EvidenceResourceCounts(2, 1, 0, 0), ["iam_policy_change"]),
            new EvidencePolicy("sha256:" + new string('b', 64), "allow", [new EvidenceRuleResult("no-public-buckets", "pass", null)]),
            new EvidenceStateSerials(41, status == "succeeded" ? 42 : 41),
            new EvidenceResult(status, failureClass, status == "succeeded" ? "applied 3 changes" : "apply failed: " + failureClass, failureClass is null ? null : "RB-" + failureClass, status == "succeeded" ? 0 : 1, finished.AddMinutes(-3), finished),
            [new EvidenceVerification("drift_check", "pass", null)],
            [new EvidenceArtifact("plan", "sha256:" + new string('c', 64), 18_234), new EvidenceArtifact("redacted_log", "sha256:" + new string('d', 64), 4_096)],
            tags) with
        { Authorisation = new EvidenceAuthorisation(requester, [new EvidenceApproval("bob", finished.AddMinutes(-4))], "approvals/v3", null) };
    }

    public static RunEvent Event(string runId, string type, string stack = "network", string environment = "prod", string? actor = "alice", DateTimeOffset? at = null) =>
        new(runId, type, stack, environment, actor, at ?? T0, new Dictionary<string, string> { ["note"] = "ünïcode ✓ \"quoted\"" });

    /// <summary>
    /// Builds a chain of <paramref name="count"/> records (alternating events and packets) with a checkpoint
    /// every <paramref name="interval"/> records and one at the end; returns the NDJSON lines (header first).
    /// </summary>
    public static List<string> ChainLines(EcdsaCheckpointSigner signer, int count, int interval)
    {
        var lines = new List<string>();
        var buffer = new ArrayBufferWriter<byte>();
        EvidenceNdjson.WriteHeader(buffer, 1, T0);
        ChainRecord? head = null;
        for (var i = 1; i <= count; i++)
        {
            var runId = $"run-{(i + 1) / 2}";
            var payload = i % 2 == 1
                ? EvidenceJson.ToCanonicalPayload(Event(runId, "apply_started", at: T0.AddMinutes(i)))
                : EvidenceJson.ToCanonicalPayload(Packet(runId, finishedAt: T0.AddMinutes(i)));
            head = EvidenceChain.CreateNext(head, i % 2 == 1 ? EvidenceChain.RunEventKind : EvidenceChain.PacketKind, runId, T0.AddSeconds(i), payload);
            EvidenceNdjson.WriteRecord(buffer, head);
            if (i % interval == 0 || i == count)
            {
                EvidenceNdjson.WriteCheckpoint(buffer, Checkpoints.Sign(signer, head, T0.AddSeconds(i)));
            }
        }

        lines.AddRange(Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return lines;
    }

    public static async Task<ChainVerificationResult> VerifyLinesAsync(IEnumerable<string> lines, EvidenceKeyring keyring, ChainVerifierOptions? options = null)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        return await EvidenceExport.VerifyAsync(stream, keyring, options ?? ChainVerifierOptions.Export, CancellationToken.None);
    }

    public static EvidenceKeyring KeyringOf(params EcdsaCheckpointSigner[] signers) =>
        EvidenceKeyring.FromPem(string.Concat(signers.Select(s => s.ExportPublicKeyPem() + "\n")));
}
