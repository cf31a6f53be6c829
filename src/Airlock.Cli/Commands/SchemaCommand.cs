using System.CommandLine;

using Airlock.Domain.Config;

namespace Airlock.Cli.Commands;

/// <summary>`airlock schema`: prints the JSON Schema of airlock.yaml (the same one committed as docs/airlock.schema.json).</summary>
internal static class SchemaCommand
{
    public static Command Create()
    {
        var command = new Command("schema", "Print the JSON Schema (draft 2020-12) of airlock.yaml, for editor completion.");
        command.SetAction(_ =>
        {
            Console.Out.Write(ConfigJsonSchema.Generate());
            return 0;
        });
        return command;
    }
}
