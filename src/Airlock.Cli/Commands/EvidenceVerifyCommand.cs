using System.CommandLine;
using System.Text.Json;

using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence verify`: checks the chain and every checkpoint, of the store or of an export file.</summary>
internal static class EvidenceVerifyCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "Verify this NDJSON export offline instead of the store." };
        var publicKeys = new Option<string[]>("--public-key") { Description = "PEM public key(s) to trust (repeatable; a file may hold several). Required with --file.", AllowMultipleArgumentsPerToken = false };
        var json = EvidenceCli.JsonOption();
        var database = EvidenceCli.DatabaseOption();
        var command = new Command("verify", "Verify the evidence chain and signed checkpoints; exit 1 naming the first bad record.");
        command.Options.Add(file);
        command.Options.Add(publicKeys);
        command.Options.Add(json);
        command.Options.Add(database);
        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var filePath = parseResult.GetValue(file);
            var keyPaths = parseResult.GetValue(publicKeys) ?? [];
            var asJson = parseResult.GetValue(json);
            var databaseUrl = parseResult.GetValue(database);
            ChainVerificationResult result;
            string source;
            if (filePath is not null)
            {
                if (databaseUrl is not null)
                {
                    throw new ArgumentException("--database does not apply with --file; an export is verified on its own");
                }

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
                    throw new ArgumentException("--public-key only applies with --file; the store is verified with the installation's keyring");
                }

                using var keyring = EvidenceWorkspace.LoadKeyring();
                source = EvidenceWorkspace.Describe(databaseUrl);
                var store = await EvidenceWorkspace.OpenStoreAsync(databaseUrl, ct);
                if (store is null)
                {
                    // No store means nothing was ever recorded here; verifying an empty chain passes, as for an empty store.
                    result = new ChainVerifier(keyring, ChainVerifierOptions.Live).Complete();
                    if (!asJson)
                    {
                        Console.Out.WriteLine($"no evidence store in this workspace ({source}): nothing recorded, nothing to verify");
                        return EvidenceCli.Ok;
                    }
                }
                else
                {
                    await using (store)
                    {
                        result = await EvidenceExport.VerifyStoreAsync(store.Evidence, keyring, ChainVerifierOptions.Live, ct);
                    }
                }
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
