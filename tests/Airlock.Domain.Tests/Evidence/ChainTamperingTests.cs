using System.Text.Json.Nodes;

using Airlock.Domain.Evidence;

namespace Airlock.Domain.Tests.Evidence;

/// <summary>Each way of tampering with an export is caught at the right line with the right reason.</summary>
public sealed class ChainTamperingTests : IDisposable
{
    // 10 records, checkpoints after records 4, 8 and 10. Line 1 is the header.
    private readonly EcdsaCheckpointSigner signer = EcdsaCheckpointSigner.Generate();
    private readonly EvidenceKeyring keyring;
    private readonly List<string> lines;

    public ChainTamperingTests()
    {
        keyring = EvidenceSamples.KeyringOf(signer);
        lines = EvidenceSamples.ChainLines(signer, 10, 4);
    }

    public void Dispose()
    {
        signer.Dispose();
        keyring.Dispose();
    }

    [Fact]
    public async Task Untouched_export_verifies()
    {
        var result = await EvidenceSamples.VerifyLinesAsync(lines, keyring);

        Assert.True(result.Ok, result.Failure?.Message);
        Assert.Equal(10, result.RecordCount);
        Assert.Equal(3, result.CheckpointsVerified);
        Assert.Equal(10, result.LastCheckpointSequence);
        Assert.Equal(0, result.UnsignedTail);
        Assert.Equal([signer.KeyId], result.KeyIds);
    }

    [Fact]
    public async Task Changing_one_byte_of_a_field_is_a_hash_mismatch_at_that_record()
    {
        var index = RecordIndex(6);
        Assert.Contains("opentofu", lines[index], StringComparison.Ordinal);
        lines[index] = lines[index].Replace("opentofu", "opentofU", StringComparison.Ordinal);

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.HashMismatch, failure.Reason);
        Assert.Equal(6, failure.Sequence);
        Assert.Equal(index + 1, failure.Line);
        Assert.Contains("edited", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changing_the_recorded_time_is_a_hash_mismatch()
    {
        var index = RecordIndex(3);
        var record = ((RecordLine)Parse(index)).Record;
        lines[index] = EvidenceNdjson.RecordToString(record with { RecordedAt = record.RecordedAt.AddSeconds(1) });

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.HashMismatch, failure.Reason);
        Assert.Equal(3, failure.Sequence);
    }

    [Fact]
    public async Task Deleting_a_record_is_a_sequence_gap_at_the_record_after_it()
    {
        var index = RecordIndex(6);
        lines.RemoveAt(index);

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.SequenceGap, failure.Reason);
        Assert.Equal(7, failure.Sequence);
        Assert.Equal(index + 1, failure.Line);
        Assert.Contains("record 6 was deleted", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Swapping_two_records_is_reported_as_reordered()
    {
        var six = RecordIndex(6);
        var seven = RecordIndex(7);
        (lines[six], lines[seven]) = (lines[seven], lines[six]);

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.Reordered, failure.Reason);
        Assert.Equal(7, failure.Sequence);
        Assert.Equal(six + 1, failure.Line);
    }

    [Fact]
    public async Task Inserting_a_forged_record_with_a_recomputed_hash_is_caught_at_the_duplicate_sequence()
    {
        var five = ((RecordLine)Parse(RecordIndex(5))).Record;
        var forged = EvidenceChain.CreateNext(five, EvidenceChain.PacketKind, "run-3", five.RecordedAt, EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("run-3", requester: "mallory")));
        var at = RecordIndex(6);
        lines.Insert(at, EvidenceNdjson.RecordToString(forged));

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.Inserted, failure.Reason);
        Assert.Equal(6, failure.Sequence);
        Assert.Equal(at + 2, failure.Line);
        Assert.Contains($"also line {at + 1}", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rewriting_the_chain_after_a_forged_record_is_caught_by_the_next_signed_checkpoint()
    {
        // The forger replaces record 6 and recomputes every later hash: the chain itself is consistent again,
        // only the signed checkpoint over record 8 still remembers the real head.
        var previous = ((RecordLine)Parse(RecordIndex(5))).Record;
        for (var sequence = 6; sequence <= 10; sequence++)
        {
            var index = RecordIndex(sequence);
            var original = ((RecordLine)Parse(index)).Record;
            var payload = sequence == 6 ? EvidenceJson.ToCanonicalPayload(EvidenceSamples.Packet("run-3", requester: "mallory")) : original.Payload;
            previous = EvidenceChain.CreateNext(previous, original.Kind, original.RunId, original.RecordedAt, payload);
            lines[index] = EvidenceNdjson.RecordToString(previous);
        }

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.CheckpointMismatch, failure.Reason);
        Assert.Equal(8, failure.Sequence);
        Assert.Equal(CheckpointIndex(8) + 1, failure.Line);
    }

    [Fact]
    public async Task Truncating_the_tail_is_caught_by_the_checkpoint_that_signed_more_records()
    {
        var lastCheckpoint = lines[CheckpointIndex(10)];
        lines.RemoveRange(RecordIndex(9), lines.Count - RecordIndex(9));
        lines.Add(lastCheckpoint);

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.Truncated, failure.Reason);
        Assert.Equal(10, failure.Sequence);
        Assert.Equal(lines.Count, failure.Line);
        Assert.Contains("chain ends at record 8", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replacing_a_checkpoint_signature_is_an_invalid_signature_at_that_checkpoint()
    {
        var index = CheckpointIndex(8);
        var otherSignature = ((CheckpointLine)Parse(CheckpointIndex(4))).Checkpoint.Signature;
        var node = JsonNode.Parse(lines[index])!.AsObject();
        node["signature"] = otherSignature;
        lines[index] = node.ToJsonString();

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.SignatureInvalid, failure.Reason);
        Assert.Equal(8, failure.Sequence);
        Assert.Equal(index + 1, failure.Line);
    }

    [Fact]
    public async Task Editing_a_checkpoint_head_to_match_a_rewrite_breaks_its_signature()
    {
        var index = CheckpointIndex(4);
        var node = JsonNode.Parse(lines[index])!.AsObject();
        node["head_hash"] = "sha256:" + new string('e', 64);
        lines[index] = node.ToJsonString();

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.SignatureInvalid, failure.Reason);
        Assert.Equal(4, failure.Sequence);
    }

    [Fact]
    public async Task Verifying_with_the_wrong_public_key_names_the_unknown_key_at_the_first_checkpoint()
    {
        using var other = EcdsaCheckpointSigner.Generate();
        using var wrong = EvidenceSamples.KeyringOf(other);

        var result = await EvidenceSamples.VerifyLinesAsync(lines, wrong);

        Assert.False(result.Ok);
        Assert.Equal(ChainFailureReason.UnknownKey, result.Failure!.Reason);
        Assert.Equal(4, result.Failure.Sequence);
        Assert.Equal(CheckpointIndex(4) + 1, result.Failure.Line);
        Assert.Contains(signer.KeyId, result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forging_a_checkpoint_under_the_real_key_id_with_another_key_is_an_invalid_signature()
    {
        using var mallory = EcdsaCheckpointSigner.Generate();
        var index = CheckpointIndex(4);
        var real = ((CheckpointLine)Parse(index)).Checkpoint;
        var body = Checkpoints.Body(real.Sequence, real.RecordCount, real.HeadHash, real.KeyId, real.SignedAt);
        var forged = real with { Signature = Convert.ToBase64String(mallory.Sign(body)) };
        lines[index] = CheckpointText(forged);

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.SignatureInvalid, failure.Reason);
    }

    [Fact]
    public async Task Records_after_the_last_checkpoint_fail_an_export_but_not_a_live_log()
    {
        lines.RemoveAt(CheckpointIndex(10));

        var export = await EvidenceSamples.VerifyLinesAsync(lines, keyring, ChainVerifierOptions.Export);
        var live = await EvidenceSamples.VerifyLinesAsync(lines, keyring, ChainVerifierOptions.Live);

        Assert.Equal(ChainFailureReason.NotSigned, export.Failure?.Reason);
        Assert.Equal(9, export.Failure!.Sequence);
        Assert.True(live.Ok, live.Failure?.Message);
        Assert.Equal(2, live.UnsignedTail);
    }

    [Fact]
    public async Task A_damaged_line_is_reported_by_line_number()
    {
        var index = RecordIndex(2);
        lines[index] = lines[index][..40];

        var failure = await FailureAsync();

        Assert.Equal(ChainFailureReason.Malformed, failure.Reason);
        Assert.Equal(index + 1, failure.Line);
    }

    [Fact]
    public async Task An_export_that_starts_later_verifies_from_its_first_record()
    {
        lines.RemoveRange(1, CheckpointIndex(4));

        var result = await EvidenceSamples.VerifyLinesAsync(lines, keyring);

        Assert.True(result.Ok, result.Failure?.Message);
        Assert.Equal(5, result.FirstSequence);
        Assert.Equal(6, result.RecordCount);
    }

    [Fact]
    public async Task A_live_log_must_start_at_record_one()
    {
        lines.RemoveRange(1, CheckpointIndex(4));

        var result = await EvidenceSamples.VerifyLinesAsync(lines, keyring, ChainVerifierOptions.Live);

        Assert.Equal(ChainFailureReason.SequenceGap, result.Failure?.Reason);
        Assert.Equal(5, result.Failure!.Sequence);
    }

    [Fact]
    public async Task An_empty_export_is_not_a_pass()
    {
        var result = await EvidenceSamples.VerifyLinesAsync([lines[0]], keyring);

        Assert.Equal(ChainFailureReason.Empty, result.Failure?.Reason);
    }

    [Fact]
    public async Task Checkpoints_signed_before_a_key_rotation_verify_with_the_old_public_key_in_the_keyring()
    {
        using var newKey = EcdsaCheckpointSigner.Generate();
        var index = CheckpointIndex(10);
        var head = ((RecordLine)Parse(RecordIndex(10))).Record;
        lines[index] = CheckpointText(Checkpoints.Sign(newKey, head, EvidenceSamples.T0));

        using var both = EvidenceSamples.KeyringOf(signer, newKey);
        using var onlyNew = EvidenceSamples.KeyringOf(newKey);
        var withBoth = await EvidenceSamples.VerifyLinesAsync(lines, both);
        var withOnlyNew = await EvidenceSamples.VerifyLinesAsync(lines, onlyNew);

        Assert.True(withBoth.Ok, withBoth.Failure?.Message);
        Assert.Equal(2, withBoth.KeyIds.Count);
        Assert.Equal(ChainFailureReason.UnknownKey, withOnlyNew.Failure?.Reason);
        Assert.Equal(4, withOnlyNew.Failure!.Sequence);
    }

    [Fact]
    public void Key_id_is_the_sha256_fingerprint_of_the_public_key_and_survives_pem_round_trip()
    {
        using var reloaded = EvidenceKeyring.FromPem(signer.ExportPublicKeyPem());

        Assert.Matches("^sha256:[0-9a-f]{64}$", signer.KeyId);
        Assert.Equal([signer.KeyId], reloaded.KeyIds);
        Assert.Throws<FormatException>(() => EvidenceKeyring.FromPem("no key here"));
    }

    private static string CheckpointText(SignedCheckpoint checkpoint)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        EvidenceNdjson.WriteCheckpoint(buffer, checkpoint);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan).TrimEnd('\n');
    }

    private async Task<ChainFailure> FailureAsync()
    {
        var result = await EvidenceSamples.VerifyLinesAsync(lines, keyring);
        Assert.False(result.Ok, "tampering went unnoticed");
        return result.Failure!;
    }

    private EvidenceLine Parse(int index) => EvidenceNdjson.ParseLine(System.Text.Encoding.UTF8.GetBytes(lines[index]), index + 1);

    private int RecordIndex(long sequence) => lines.FindIndex(l => l.StartsWith($"{{\"type\":\"record\",\"sequence\":{sequence},", StringComparison.Ordinal));

    private int CheckpointIndex(long sequence) => lines.FindIndex(l => l.StartsWith($"{{\"type\":\"checkpoint\",\"sequence\":{sequence},", StringComparison.Ordinal));
}

public class LargeChainVerificationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task An_edit_deep_in_a_multi_batch_export_is_found_at_the_same_place_sequentially_or_in_parallel(int parallelism)
    {
        using var signer = EcdsaCheckpointSigner.Generate();
        using var keyring = EvidenceSamples.KeyringOf(signer);
        var lines = EvidenceSamples.ChainLines(signer, 9_000, 1_000);
        var index = lines.FindIndex(l => l.StartsWith("{\"type\":\"record\",\"sequence\":8765,", StringComparison.Ordinal));
        var intact = await VerifyAsync(lines, keyring, parallelism);
        lines[index] = lines[index].Replace("\"prod\"", "\"qa\"", StringComparison.Ordinal);

        var tampered = await VerifyAsync(lines, keyring, parallelism);

        Assert.True(intact.Ok, intact.Failure?.Message);
        Assert.Equal(9_000, intact.RecordCount);
        Assert.Equal(ChainFailureReason.HashMismatch, tampered.Failure?.Reason);
        Assert.Equal(8765, tampered.Failure!.Sequence);
        Assert.Equal(index + 1, tampered.Failure.Line);
        Assert.Equal(8764, tampered.RecordCount);
    }

    private static async Task<ChainVerificationResult> VerifyAsync(List<string> lines, EvidenceKeyring keyring, int parallelism)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("\r\n", lines) + "\r\n"));
        return await EvidenceExport.VerifyAsync(stream, keyring, ChainVerifierOptions.Export, parallelism, CancellationToken.None);
    }
}
