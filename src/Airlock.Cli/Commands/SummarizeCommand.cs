using System.CommandLine;

using Airlock.Application.Views;

namespace Airlock.Cli.Commands;

/// <summary>`airlock summarize PLAN.json`: what a plan will do and how risky it is.</summary>
internal static class SummarizeCommand
{
    public static Command Create()
    {
        var plan = new Argument<string>("PLAN.json") { Description = "`tofu/terraform show -json` output or a Pulumi engine event stream (--event-log / --json)." };
        var format = new Option<string>("--format") { Description = "Output: text, json or markdown.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "markdown");
        var detailed = new Option<bool>("--detailed-exitcode") { Description = "Exit 0 when there are no changes, 2 when there are, 1 on error." };
        var command = new Command("summarize", "Summarise a plan: actions per resource, risks, digest.");
        command.Arguments.Add(plan);
        command.Options.Add(format);
        command.Options.Add(detailed);
        var config = PlanInput.ConfigOption();
        command.Options.Add(config);
        command.SetAction(parseResult =>
        {
            var classes = PlanInput.TryClasses(parseResult.GetValue(config));
            var summary = classes is null ? null : PlanInput.TryRead(parseResult.GetValue(plan)!, classes);
            if (summary is null)
            {
                return 1;
            }

            switch (parseResult.GetValue(format))
            {
                case "json":
                    Console.Out.Flush();
                    using (var stdout = Console.OpenStandardOutput())
                    {
                        PlanRendering.WriteJson(summary, stdout);
                    }

                    break;
                case "markdown":
                    PlanMarkdown.Render(summary, Console.Out);
                    break;
                default:
                    PlanRendering.Text(summary);
                    break;
            }

            return parseResult.GetValue(detailed) && summary.HasChanges ? 2 : 0;
        });
        return command;
    }
}
