using System.CommandLine;
using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock demo`: the first minutes with Airlock, on embedded example files. It unpacks the
/// quickstart workspace into a fresh temporary folder (nothing else is touched), validates its
/// airlock.yaml, summarises a real plan, and shows why an approval of one plan does not
/// authorise a materially different one. Each step runs the real command a user would type.
/// </summary>
internal static class DemoCommand
{
    private const string ResourcePrefix = "quickstart/";

    public static Command Create()
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary workspace afterwards (its path is printed)." };
        var command = new Command("demo", "Walk through Airlock on a bundled example workspace and real plans.");
        command.Options.Add(keep);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var workspace = Path.Combine(Path.GetTempPath(), "airlock-demo-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                Unpack(workspace);
                return await RunStepsAsync(workspace, cancellationToken);
            }
            finally
            {
                if (parseResult.GetValue(keep))
                {
                    AnsiConsole.MarkupLine($"[grey]The example workspace stays in {Markup.Escape(workspace)}[/]");
                }
                else
                {
                    Directory.Delete(workspace, recursive: true);
                }
            }
        });
        return command;
    }

    private static async Task<int> RunStepsAsync(string workspace, CancellationToken cancellationToken)
    {
        var config = Path.Combine(workspace, "airlock.yaml");
        var plans = Path.Combine(workspace, "plans");
        (string Title, string Why, string[] Args, int Expected)[] steps =
        [
            ("Validate the workspace", "airlock.yaml declares teams, environments (approvals, windows, freezes, waves), stacks and queues; every reference is checked.", ["validate", config], 0),
            ("Summarize a real plan", "A Terraform 0.14 plan of an AWS database stack: what it does, grouped by action, risks first. Values are never printed.", ["summarize", Path.Combine(plans, "database-prod.json")], 0),
            ("The same plan as a pull-request comment", "Markdown for the PR, JSON (--format json) for scripts.", ["summarize", "--format", "markdown", Path.Combine(plans, "database-prod.json")], 0),
            ("Is the fresh plan the approved one?", "An approval binds to what it saw. A fresh plan that now destroys the resource is a material delta: exit 3, new approval required.", ["compare", Path.Combine(plans, "approved.json"), Path.Combine(plans, "fresh.json")], 3),
        ];

        var failed = 0;
        for (var i = 0; i < steps.Length; i++)
        {
            var (title, why, args, expected) = steps[i];
            AnsiConsole.Write(new Rule($"[bold]{i + 1}/{steps.Length} {Markup.Escape(title)}[/]").LeftJustified());
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(why)}[/]");
            AnsiConsole.MarkupLine($"[blue]$ airlock {Markup.Escape(string.Join(' ', args.Select(a => a.Replace(workspace, ".", StringComparison.Ordinal))))}[/]");
            var exitCode = await AirlockCli.Build().Parse(args).InvokeAsync(cancellationToken: cancellationToken);
            var ok = exitCode == expected;
            failed += ok ? 0 : 1;
            AnsiConsole.MarkupLine(ok ? $"[green]✓ exit {exitCode} as expected[/]" : $"[red]✗ exit {exitCode}, expected {expected}[/]");
            AnsiConsole.WriteLine();
        }

        AnsiConsole.MarkupLine("Next: [bold]airlock validate[/] your airlock.yaml, [bold]airlock summarize[/] your `tofu show -json` output, [bold]airlock compare[/] two plans.");
        return failed == 0 ? 0 : 1;
    }

    private static void Unpack(string workspace)
    {
        var assembly = typeof(DemoCommand).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var target = Path.Combine(workspace, name[ResourcePrefix.Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var source = assembly.GetManifestResourceStream(name)!;
            using var file = File.Create(target);
            source.CopyTo(file);
        }
    }
}
