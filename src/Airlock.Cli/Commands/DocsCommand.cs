using System.CommandLine;
using System.Globalization;
using System.Text;

using Airlock.Domain.Config;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock docs cli|config`: the CLI reference (from these command definitions) and the airlock.yaml reference
/// (from the config schema) as Markdown. docs/cli.md and docs/configuration-reference.md are this output, and a
/// test fails when they drift.
/// </summary>
internal static class DocsCommand
{
    public static Command Create()
    {
        var command = new Command("docs", "Print generated reference documentation as Markdown.") { Hidden = true };
        var cli = new Command("cli", "The CLI reference (docs/cli.md).");
        cli.SetAction(_ =>
        {
            Console.Out.Write(CliReference(AirlockCli.Build()));
            return 0;
        });
        var config = new Command("config", "The airlock.yaml reference (docs/configuration-reference.md).");
        config.SetAction(_ =>
        {
            Console.Out.Write(ConfigReference.Generate());
            return 0;
        });
        command.Subcommands.Add(cli);
        command.Subcommands.Add(config);
        return command;
    }

    public static string CliReference(RootCommand root)
    {
        var text = new StringBuilder();
        text.Append("# CLI reference\n\n");
        text.Append("Generated from the command definitions (`airlock docs cli`); do not edit by hand. `airlock COMMAND --help` prints the same.\n\n");
        text.Append("Exit codes of the governed commands: 0 done, 1 failed after starting, 2 bad input, 3 refused before anything changed, 4 waiting (a release waiting for approval), 130 cancelled.\n\n");
        var commands = Walk(root, "airlock").ToList();
        foreach (var (path, _) in commands)
        {
            text.Append("- [`").Append(path).Append("`](#").Append(Anchor(path)).Append(")\n");
        }

        foreach (var (path, command) in commands)
        {
            text.Append("\n## ").Append(path).Append("\n\n").Append(command.Description).Append("\n\n");
            var usage = new StringBuilder(path);
            foreach (var argument in command.Arguments.Where(a => !a.Hidden))
            {
                usage.Append(' ').Append(argument.Arity.MinimumNumberOfValues == 0 ? $"[{argument.Name}]" : argument.Name);
            }

            if (command.Options.Any(o => !o.Hidden))
            {
                usage.Append(" [options]");
            }

            text.Append("```\n").Append(usage).Append("\n```\n");
            var rows = command.Arguments.Where(a => !a.Hidden).Select(a => (Name: $"`{a.Name}`", a.Description, Required: a.Arity.MinimumNumberOfValues > 0))
                .Concat(command.Options.Where(o => !o.Hidden).Select(o => (Name: string.Join(", ", new[] { o.Name }.Concat(o.Aliases.Order(StringComparer.Ordinal)).Select(n => $"`{n}`")), o.Description, o.Required)))
                .ToList();
            if (rows.Count > 0)
            {
                text.Append("\n| argument / option | required | description |\n| --- | --- | --- |\n");
                foreach (var (name, description, required) in rows)
                {
                    text.Append("| ").Append(name).Append(" | ").Append(required ? "yes" : string.Empty).Append(" | ")
                        .Append((description ?? string.Empty).Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ")).Append(" |\n");
                }
            }
        }

        return text.ToString();
    }

    private static IEnumerable<(string Path, Command Command)> Walk(Command command, string path)
    {
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var subPath = $"{path} {sub.Name}";
            if (sub.Action is not null || sub.Subcommands.Count == 0)
            {
                yield return (subPath, sub);
            }

            foreach (var nested in Walk(sub, subPath))
            {
                yield return nested;
            }
        }
    }

    // GitHub's heading anchors: lower case, spaces to dashes, punctuation other than - and _ dropped.
    public static string Anchor(string heading) =>
        string.Concat(heading.ToLower(CultureInfo.InvariantCulture).Select(c => c == ' ' ? "-" : char.IsLetterOrDigit(c) || c is '-' or '_' ? c.ToString() : string.Empty));
}
