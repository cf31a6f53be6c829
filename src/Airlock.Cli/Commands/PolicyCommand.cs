using System.CommandLine;
using Airlock.Policy;
using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>`airlock policy test [DIR]`: runs custom rules against example inputs with expected outcomes.</summary>
internal static class PolicyCommand
{
    public static Command Create()
    {
        var policy = new Command("policy", "Work with custom policy rules.");
        var directory = new Argument<string>("DIR")
        {
            Description = "Folder holding the rules (*.js) and their tests (*.test.json).",
            DefaultValueFactory = _ => "policies",
        };
        var test = new Command("test", "Run every *.test.json case against its rule; exit 0 when all expectations hold.") { directory };
        test.SetAction(parseResult =>
        {
            var dir = parseResult.GetValue(directory)!;
            IReadOnlyList<PolicyTestCaseResult> results;
            try
            {
                results = new PolicyTestRunner(new JavaScriptRuleRunner()).RunDirectory(dir);
            }
            catch (PolicyException e)
            {
                Console.Error.WriteLine($"airlock: {e.Message}");
                return 1;
            }

            foreach (var result in results)
            {
                var mark = result.Passed ? "[green]PASS[/]" : "[red]FAIL[/]";
                var detail = result.Passed ? string.Empty : $": {Markup.Escape(result.Detail)}";
                AnsiConsole.MarkupLine($"{mark} {Markup.Escape(result.Rule)} / {Markup.Escape(result.Case)}{detail}");
            }

            var failed = results.Count(r => !r.Passed);
            Console.Out.WriteLine($"{results.Count - failed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        });
        policy.Subcommands.Add(test);
        return policy;
    }
}
