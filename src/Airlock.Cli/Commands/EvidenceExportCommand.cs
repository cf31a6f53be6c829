using System.CommandLine;

using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence export`: writes the log as NDJSON that an auditor can verify offline with only the public key.</summary>
internal static class EvidenceExportCommand
{
    public static Command Create()
    {
        var since = EvidenceCli.SinceOption("Start at the first record recorded at or after this time (ISO 8601, or 12h / 7d back).");
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file (atomically) instead of stdout." };
        var database = EvidenceCli.DatabaseOption();
        var command = new Command("export", "Export the evidence log as NDJSON (records and signed checkpoints).");
        command.Options.Add(since);
        command.Options.Add(output);
        command.Options.Add(database);
        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var from = EvidenceCli.ParseSince(parseResult.GetValue(since), TimeProvider.System);
            var databaseUrl = parseResult.GetValue(database);
            await using var store = await EvidenceWorkspace.OpenStoreAsync(databaseUrl, ct);
            if (store is null)
            {
                await Console.Error.WriteLineAsync($"airlock: no evidence store in this workspace ({EvidenceWorkspace.Describe(databaseUrl)}): nothing to export");
                return EvidenceCli.Failed;
            }

            using var signer = EvidenceWorkspace.LoadSigner();
            var log = new EvidenceLog(store.Evidence, signer, TimeProvider.System);
            var target = parseResult.GetValue(output);
            if (target is null)
            {
                await using var stdout = Console.OpenStandardOutput();
                await log.ExportAsync(stdout, from, ct);
                return EvidenceCli.Ok;
            }

            // Written beside the target and moved into place, so a failed export never leaves a partial file.
            var temp = target + ".partial-" + Guid.NewGuid().ToString("N");
            try
            {
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                {
                    var count = await log.ExportAsync(file, from, ct);
                    await Console.Error.WriteLineAsync($"exported {count} records to {target}");
                }

                File.Move(temp, target, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }

            return EvidenceCli.Ok;
        }));
        return command;
    }
}
