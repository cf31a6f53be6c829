using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock demo`: the first minutes with Airlock, on embedded example files, in a fresh temporary
/// folder (nothing else is touched). Part one reads real plans: validate, summarize, and why an
/// approval of one plan does not authorise a materially different one. Part two governs a real
/// change: the getting-started workspace (a site deployed by shell scripts) is planned and applied
/// in dev, then taken to prod, where the apply is refused until two people from the right teams
/// approve. Each step runs the real command a user would type.
/// </summary>
internal static partial class DemoCommand
{
    private const string QuickstartPrefix = "quickstart/";
    private const string GettingStartedPrefix = "getting-started/";

    private sealed record Step(string Title, string Why, string[] Args, int Expected, string? Directory = null);

    public static Command Create()
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary workspace afterwards (its path is printed)." };
        var command = new Command("demo", "Walk through Airlock on bundled example workspaces: real plans, then a governed change from plan to verified apply with evidence.");
        command.Options.Add(keep);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var workspace = Path.Combine(Path.GetTempPath(), "airlock-demo-" + Guid.NewGuid().ToString("N")[..8]);
            var original = Environment.CurrentDirectory;
            try
            {
                Unpack(QuickstartPrefix, workspace);
                var failed = await RunPlanStepsAsync(workspace, cancellationToken);
                failed += await RunGovernedStepsAsync(Path.Combine(workspace, "platform"), cancellationToken);
                AnsiConsole.MarkupLine(failed == 0
                    ? "[green]Every step behaved as expected.[/] Next: [bold]docs/getting-started.md[/] builds this workspace from an empty directory."
                    : $"[red]{failed} step(s) did not behave as expected.[/]");
                return failed == 0 ? 0 : 1;
            }
            finally
            {
                Environment.CurrentDirectory = original;
                if (parseResult.GetValue(keep))
                {
                    AnsiConsole.MarkupLine($"[grey]The example workspaces stay in {Markup.Escape(workspace)}[/]");
                }
                else
                {
                    Directory.Delete(workspace, recursive: true);
                }
            }
        });
        return command;
    }

    private static async Task<int> RunPlanStepsAsync(string workspace, CancellationToken cancellationToken)
    {
        var config = Path.Combine(workspace, "airlock.yaml");
        var plans = Path.Combine(workspace, "plans");
        Step[] steps =
        [
            new("Validate the workspace", "airlock.yaml declares teams, environments (approvals, windows, freezes, waves), stacks and queues; every reference is checked.", ["validate", config], 0),
            new("Summarize a real plan", "A Terraform 0.14 plan of an AWS database stack: what it does, grouped by action, risks first. Values are never printed.", ["summarize", Path.Combine(plans, "database-prod.json")], 0),
            new("The same plan as a pull-request comment", "Markdown for the PR, JSON (--format json) for scripts.", ["summarize", "--format", "markdown", Path.Combine(plans, "database-prod.json")], 0),
            new("Is the fresh plan the approved one?", "An approval binds to what it saw. A fresh plan that now destroys the resource is a material delta: exit 3, new approval required.", ["compare", Path.Combine(plans, "approved.json"), Path.Combine(plans, "fresh.json")], 3),
        ];

        var failed = 0;
        for (var i = 0; i < steps.Length; i++)
        {
            (var ok, _) = await RunStepAsync($"{i + 1}/{steps.Length}", steps[i], workspace, cancellationToken);
            failed += ok ? 0 : 1;
        }

        return failed;
    }

    private static async Task<int> RunGovernedStepsAsync(string workspace, CancellationToken cancellationToken)
    {
        Unpack(GettingStartedPrefix, workspace);
        File.WriteAllText(Path.Combine(workspace, ".gitignore"), "target/\n.airlock/\n");
        // The command engine runs the scripts directly; embedded resources do not keep the executable bit.
        if (!OperatingSystem.IsWindows())
        {
            foreach (var script in Directory.EnumerateFiles(Path.Combine(workspace, "stacks", "site"), "*.sh"))
            {
                File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }

        AnsiConsole.Write(new Rule("[bold]A governed change[/]").LeftJustified());
        AnsiConsole.MarkupLine("[grey]The getting-started workspace: one stack, \"site\", whose scripts deploy real files to target/<env>/site/ (the command engine). dev needs no approval; prod needs one from platform and one from security, never the requester's own.[/]");
        if (!Git(workspace, "init", "-q") || !Git(workspace, "add", "-A") || !Git(workspace, "-c", "user.name=Airlock demo", "-c", "user.email=demo@example.com", "commit", "-q", "-m", "first stack"))
        {
            AnsiConsole.MarkupLine("[red]✗ git is needed for this part (plans and approvals bind to a commit)[/]");
            return 1;
        }

        Environment.CurrentDirectory = workspace;
        var failed = 0;
        var number = 0;
        const int total = 11;
        async Task<string> Run(Step step)
        {
            var (ok, output) = await RunStepAsync($"{++number}/{total}", step, workspace, cancellationToken);
            failed += ok ? 0 : 1;
            return output;
        }

        var devPlan = PlanId(await Run(new("Plan in dev", "Plans the committed change and stores the plan encrypted, bound to the commit, with its policy result.", ["plan", "site", "--env", "dev", "--as", "alice@example.com"], 0)));
        await Run(new("Apply in dev", "No approval needed in dev: validate, queue, lock, re-plan and check it is the same change, apply, verify (verify.sh + drift), write evidence.", ["apply", devPlan, "--as", "alice@example.com"], 0));
        var prodPlan = PlanId(await Run(new("Plan for prod", "The same commit, planned for prod: saved-plan mode, approvals required.", ["plan", "site", "--env", "prod", "--as", "alice@example.com"], 0)));
        await Run(new("Apply before anyone approved", "Refused before anything changes: exit 3 with the reason.", ["apply", prodPlan, "--as", "alice@example.com"], 3));
        await Run(new("Approve your own plan", "Separation of duties: the requester cannot approve.", ["approve", prodPlan, "--as", "alice@example.com"], 3));
        await Run(new("Bob approves for platform", "Bound to this plan's digest, commit, stack, environment, policy result and approval rules.", ["approve", prodPlan, "--as", "bob@example.com"], 0));
        await Run(new("Carol approves for security", "Now every required team is represented by a different person.", ["approve", prodPlan, "--as", "carol@example.com"], 0));
        await Run(new("Apply in prod", "The saved plan is checked (integrity, expiry, target, state serial) and applied exactly.", ["apply", prodPlan, "--as", "alice@example.com"], 0));
        await Run(new("What ran", "Every run with its outcome; `airlock run show RUN_ID` gives the timeline.", ["runs"], 0));
        await Run(new("Who approved what", "Each approval, its binding and whether they authorise an apply now.", ["approvals", prodPlan], 0));
        await Run(new("Verify the evidence", "Every plan, approval and run event is hash-chained and the checkpoints are signed: any edit, deletion or reordering is detected.", ["evidence", "verify"], 0));
        return failed;
    }

    private static async Task<(bool Ok, string Output)> RunStepAsync(string number, Step step, string workspace, CancellationToken cancellationToken)
    {
        AnsiConsole.Write(new Rule($"[bold]{number} {Markup.Escape(step.Title)}[/]").LeftJustified());
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(step.Why)}[/]");
        AnsiConsole.MarkupLine($"[blue]$ airlock {Markup.Escape(string.Join(' ', step.Args.Select(a => a.Replace(workspace, ".", StringComparison.Ordinal))))}[/]");
        var (exitCode, output) = await InvokeTeedAsync(step.Args, cancellationToken);
        var ok = exitCode == step.Expected;
        AnsiConsole.MarkupLine(ok ? $"[green]✓ exit {exitCode} as expected[/]" : $"[red]✗ exit {exitCode}, expected {step.Expected}[/]");
        AnsiConsole.WriteLine();
        return (ok, output);
    }

    // Runs a command in this process, showing its output as usual while keeping a copy to read ids from.
    private static async Task<(int ExitCode, string Output)> InvokeTeedAsync(string[] args, CancellationToken cancellationToken)
    {
        var original = Console.Out;
        var copy = new StringWriter();
        Console.SetOut(new TeeWriter(original, copy));
        try
        {
            var exitCode = await AirlockCli.Build().Parse(args).InvokeAsync(cancellationToken: cancellationToken);
            return (exitCode, copy.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    private static string PlanId(string planOutput) =>
        PlanLine().Match(planOutput) is { Success: true } match ? match.Groups[1].Value : "plan-missing";

    [GeneratedRegex(@"^Plan (plan-[0-9a-f]+) for ", RegexOptions.Multiline)]
    private static partial Regex PlanLine();

    private static bool Git(string directory, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        try
        {
            using var git = Process.Start(psi)!;
            git.StandardOutput.ReadToEnd();
            git.StandardError.ReadToEnd();
            git.WaitForExit();
            return git.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static void Unpack(string prefix, string directory)
    {
        var assembly = typeof(DemoCommand).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var target = Path.Combine(directory, name[prefix.Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var source = assembly.GetManifestResourceStream(name)!;
            using var file = File.Create(target);
            source.CopyTo(file);
        }
    }

    /// <summary>Writes everything to two writers: the terminal and a copy.</summary>
    private sealed class TeeWriter(TextWriter first, TextWriter second) : TextWriter
    {
        public override Encoding Encoding => first.Encoding;

        public override void Write(char value)
        {
            first.Write(value);
            second.Write(value);
        }

        public override void Write(string? value)
        {
            first.Write(value);
            second.Write(value);
        }

        public override void WriteLine(string? value)
        {
            first.WriteLine(value);
            second.WriteLine(value);
        }

        public override void Flush()
        {
            first.Flush();
            second.Flush();
        }
    }
}
