using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application.Views;
using Airlock.Cli.Client;
using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence verify`: checks the chain and every checkpoint, of the store, of an export file, or on a server (--server).</summary>
internal static class EvidenceVerifyCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "Verify this NDJSON export offline instead of the store." };
        var publicKeys = new Option<string[]>("--public-key") { Description = "PEM public key(s) to trust (repeatable; a file may hold several). Required with --file.", AllowMultipleArgumentsPerToken = false };
        var json = EvidenceCli.JsonOption();
        var database = EvidenceCli.DatabaseOption();
        var server = EvidenceCli.ServerOption();
        var command = new Command("verify", "Verify the evidence chain and signed checkpoints; exit 1 naming the first bad record.");
        command.Options.Add(file);
        command.Options.Add(publicKeys);
        command.Options.Add(json);
        command.Options.Add(database);
        command.Options.Add(server);
        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var filePath = parseResult.GetValue(file);
            var keyPaths = parseResult.GetValue(publicKeys) ?? [];
            var asJson = parseResult.GetValue(json);
            var databaseUrl = parseResult.GetValue(database);
            if (parseResult.GetValue(server) is { } url)
            {
                if (filePath is not null || keyPaths.Length > 0 || databaseUrl is not null)
                {
                    throw new ArgumentException("--server verifies the server's store with its keys: --file, --public-key and --database do not apply");
                }

                using var client = ServerClient.FromEnvironment(url);
                var verified = await client.PostAsync("api/evidence/verify", new { }, ct);
                verified["source"] = $"the server at {client.BaseAddress}";
                return Render(verified, asJson);
            }

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

            return Render(JsonViews.Verification(result, source), asJson);
        }));
        return command;
    }

    // One rendering for the local store, an export file and --server: all give the JsonViews.Verification shape.
    private static int Render(JsonObject result, bool asJson)
    {
        var ok = (bool)result["ok"]!;
        var failure = result["failure"] as JsonObject;
        if (asJson)
        {
            Console.Out.WriteLine(result.ToJsonString(EvidenceCli.Json));
        }
        else if (ok)
        {
            Console.Out.WriteLine($"OK: {(long)result["records"]!} records ({(long?)result["first_sequence"]}..{(long?)result["last_sequence"]}), {(int)result["checkpoints_verified"]!} signed checkpoints verified, head {(string?)result["head_hash"] ?? "(empty)"}");
            if ((long)result["unsigned_tail"]! > 0)
            {
                Console.Out.WriteLine($"note: the newest {(long)result["unsigned_tail"]!} records are not covered by a checkpoint yet");
            }
        }
        else
        {
            Console.Out.WriteLine($"FAILED at {Position(failure!)}: {(string?)failure!["code"]}: {(string?)failure["message"]}");
            Console.Out.WriteLine($"verified before the failure: {(long)result["records"]!} records, {(int)result["checkpoints_verified"]!} checkpoints");
        }

        if (failure is not null)
        {
            var source = (string?)result["source"];
            var where = (long?)failure["line"] is { } line ? $"{source}:{line}" : source;
            Console.Error.WriteLine($"airlock: {where}: {Position(failure)}: {(string?)failure["code"]}: {EvidenceCli.OneLine((string?)failure["message"] ?? string.Empty)}");
        }

        return ok ? EvidenceCli.Ok : EvidenceCli.Failed;
    }

    // As ChainVerificationFailure.Position: "line 12 (record 11)", "line 12", "record 11" or "end of chain".
    private static string Position(JsonObject failure) => ((long?)failure["line"], (long?)failure["sequence"]) switch
    {
        ({ } line, { } sequence) => $"line {line} (record {sequence})",
        ({ } line, null) => $"line {line}",
        (null, { } sequence) => $"record {sequence}",
        _ => "end of chain",
    };
}
