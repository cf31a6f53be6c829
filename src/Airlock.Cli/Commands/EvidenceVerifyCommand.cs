using System.CommandLine;
using System.Text.Json;

using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence verify`: checks the chain and every checkpoint, of the workspace log or of an export file.</summary>
internal static class EvidenceVerifyCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "Verify this NDJSON export offline instead of the workspace log." };
        var publicKeys = new Option<string[]>("--public-key") { Description = "PEM public key(s) to trust (repeatable; a file may hold several). Required with --file.", AllowMultipleArgumentsPerToken = false };
        var json = EvidenceCli.JsonOption();
        var command = new Command("verify", "Verify the evidence chain and signed checkpoints; exit 1 naming the first bad record.");
        command.Options.Add(file);
        command.Options.Add(publicKeys);
        command.Options.Add(json);
        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var filePath = parseResult.GetValue(file);
            var keyPaths = parseResult.GetValue(publicKeys) ?? [];
            var asJson = parseResult.GetValue(json);
            ChainVerificationResult result;
            string source;
            if (filePath is not null)
            {
                if (keyPaths.Length == 0)
                {
                    throw new ArgumentException("--file needs --public-key KEY.pem (the key(s) that signed the export)");
                }

                using var keyring = new EvidenceKeyring();
                foreach (var keyPath in keyPaths)
                {
                    try
                    {
                        keyring.AddPem(File.ReadAllText(keyPath));
                    }
                    catch (FormatException ex)
                    {
                        throw new FormatException($"{keyPath}: {ex.Message}", ex);
                    }
                }

                await using var input = new FileStream(filePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
                result = await EvidenceExport.VerifyAsync(input, keyring, ChainVerifierOptions.Export, ct);
                source = filePath;
            }
            else
            {
                if (keyPaths.Length > 0)
                {
                    throw new ArgumentException("--public-key only applies with --file; the workspace log is verified with its own keyring");
                }

                using var keyring = EvidenceWorkspace.LoadKeyring();
                result = await EvidenceExport.VerifyStoreAsync(EvidenceWorkspace.OpenStore(), keyring, ChainVerifierOptions.Live, ct);
                source = EvidenceWorkspace.RecordsPath;
            }

            Render(result, source, asJson);
            return result.Ok ? EvidenceCli.Ok : EvidenceCli.Failed;
        }));
        return command;
    }

    private static void Render(ChainVerificationResult result, string source, bool asJson)
    {
        if (asJson)
        {
            var failure = result.Failure;
            Console.Out.WriteLine(JsonSerializer.Serialize(
                new
                {
                    ok = result.Ok,
                    source,
                    records = result.RecordCount,
                    first_sequence = result.FirstSequence,
                    last_sequence = result.LastSequence,
                    head_hash = result.HeadHash,
                    checkpoints_verified = result.CheckpointsVerified,
                    last_checkpoint_sequence = result.LastCheckpointSequence,
                    unsigned_tail = result.UnsignedTail,
                    key_ids = result.KeyIds,
                    failure = failure is null ? null : new { code = failure.Code, sequence = failure.Sequence, line = failure.Line, message = failure.Message },
                },
                EvidenceCli.Json));
        }
        else if (result.Ok)
        {
            Console.Out.WriteLine($"OK: {result.RecordCount} records ({result.FirstSequence}..{result.LastSequence}), {result.CheckpointsVerified} signed checkpoints verified, head {result.HeadHash ?? "(empty)"}");
            if (result.UnsignedTail > 0)
            {
                Console.Out.WriteLine($"note: the newest {result.UnsignedTail} records are not covered by a checkpoint yet");
            }
        }
        else
        {
            Console.Out.WriteLine($"FAILED at {result.Failure!.Position}: {result.Failure.Code}: {result.Failure.Message}");
            Console.Out.WriteLine($"verified before the failure: {result.RecordCount} records, {result.CheckpointsVerified} checkpoints");
        }

        if (result.Failure is { } f)
        {
            var where = f.Line is { } line ? $"{source}:{line}" : source;
            Console.Error.WriteLine($"airlock: {where}: {f.Position}: {f.Code}: {EvidenceCli.OneLine(f.Message)}");
        }
    }
}
