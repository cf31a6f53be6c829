using System.CommandLine;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence public-key`, `rotate-key` and `schema`.</summary>
internal static class EvidenceKeyCommands
{
    public static Command CreatePublicKey()
    {
        var command = new Command("public-key", "Print every public key that signed this installation's evidence (PEM), for auditors.");
        command.SetAction((_, _) => EvidenceCli.RunAsync(() =>
        {
            // Creating the key here is fine: an auditor needs the key that will sign, even before the first run.
            using (EvidenceWorkspace.LoadSigner())
            {
            }

            using var keyring = EvidenceWorkspace.LoadKeyring();
            Console.Out.Write(keyring.ExportPem());
            return Task.FromResult(EvidenceCli.Ok);
        }));
        return command;
    }

    public static Command CreateSchema()
    {
        var command = new Command("schema", "Print the JSON schema of evidence packets (docs/evidence.schema.json).");
        command.SetAction(_ =>
        {
            Console.Out.Write(Airlock.Domain.Evidence.EvidenceSchema.GenerateText());
            return EvidenceCli.Ok;
        });
        return command;
    }

    public static Command CreateRotateKey()
    {
        var command = new Command("rotate-key", "Replace the signing key; old checkpoints stay verifiable through the keyring.");
        command.SetAction((_, _) => EvidenceCli.RunAsync(() =>
        {
            if (Environment.GetEnvironmentVariable(EvidenceWorkspace.KeyVariable) is { Length: > 0 })
            {
                throw new ArgumentException($"the signing key is configured by {EvidenceWorkspace.KeyVariable}; rotate it there");
            }

            using var fresh = EvidenceWorkspace.Keys.Rotate();
            Console.Out.WriteLine($"new signing key {fresh.KeyId}");
            return Task.FromResult(EvidenceCli.Ok);
        }));
        return command;
    }
}
