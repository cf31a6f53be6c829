using System.CommandLine;
using System.Text.Json;

using Airlock.Domain.Config;

namespace Airlock.Cli.Commands;

/// <summary>`airlock validate [PATH] [--json]`: loads airlock.yaml and reports every problem with its position.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var pathArgument = new Argument<string>("PATH")
        {
            Description = "The workspace config, or a directory holding airlock.yaml.",
            DefaultValueFactory = _ => "airlock.yaml",
        };
        var jsonOption = new Option<bool>("--json") { Description = "Print {valid, file, diagnostics} as JSON." };
        var command = new Command("validate", "Check airlock.yaml: keys, values and every cross-reference. Exit 0 when valid, 1 otherwise.");
        command.Arguments.Add(pathArgument);
        command.Options.Add(jsonOption);
        command.SetAction(parseResult => Run(parseResult.GetValue(pathArgument)!, parseResult.GetValue(jsonOption)));
        return command;
    }

    /// <summary>
    /// Reads the workspace config at <paramref name="path"/>; a directory means its airlock.yaml (and
    /// <paramref name="path"/> becomes that file). On failure writes one line and returns null.
    /// </summary>
    internal static string? TryReadConfig(ref string path)
    {
        if (Directory.Exists(path))
        {
            path = Path.Combine(path, "airlock.yaml");
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"airlock: cannot read {path}: {e.Message}");
            return null;
        }
    }

    private static int Run(string path, bool json)
    {
        if (TryReadConfig(ref path) is not { } text)
        {
            return 1;
        }

        var result = WorkspaceConfigLoader.Load(text, path);
        if (json)
        {
            WriteJson(path, result);
        }
        else if (result.IsValid)
        {
            var config = result.Config!;
            Console.Out.WriteLine($"{path}: valid ({config.Environments.Length} environments, {config.Stacks.Length} stacks, {config.Applications.Length} applications, {config.Queues.Length} queues)");
        }
        else
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                Console.Out.WriteLine(diagnostic.ToString());
            }

            var count = result.Diagnostics.Length;
            Console.Out.WriteLine($"{count} {(count == 1 ? "problem" : "problems")} in {path}");
        }

        return result.IsValid ? 0 : 1;
    }

    private static void WriteJson(string path, ConfigLoadResult result)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("valid", result.IsValid);
            writer.WriteString("file", path);
            writer.WriteStartArray("diagnostics");
            foreach (var d in result.Diagnostics)
            {
                writer.WriteStartObject();
                writer.WriteString("file", d.File);
                writer.WriteNumber("line", d.Line);
                writer.WriteNumber("column", d.Column);
                writer.WriteString("code", d.Code);
                writer.WriteString("message", d.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        stdout.WriteByte((byte)'\n');
    }
}
