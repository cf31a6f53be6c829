using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Plans;

namespace Airlock.Cli.Commands;

/// <summary>`airlock compare APPROVED FRESH`: is the fresh plan materially the approved one?</summary>
internal static class CompareCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var approvedArgument = new Argument<string>("APPROVED.json") { Description = "The approved plan (or its `summarize --format json` summary)." };
        var freshArgument = new Argument<string>("FRESH.json") { Description = "The fresh plan." };
        var json = new Option<bool>("--json") { Description = "Machine-readable verdict on stdout." };
        var command = new Command("compare", "Compare an approved plan with a fresh one by material equivalence. Exit 0 equivalent, 3 material delta, 1 error.");
        command.Arguments.Add(approvedArgument);
        command.Arguments.Add(freshArgument);
        command.Options.Add(json);
        var config = PlanInput.ConfigOption();
        command.Options.Add(config);
        command.SetAction(parseResult =>
        {
            var classes = PlanInput.TryClasses(parseResult.GetValue(config));
            if (classes is null)
            {
                return 1;
            }

            var approved = PlanInput.TryRead(parseResult.GetValue(approvedArgument)!, classes);
            if (approved is null)
            {
                return 1;
            }

            var fresh = PlanInput.TryRead(parseResult.GetValue(freshArgument)!, classes);
            if (fresh is null)
            {
                return 1;
            }

            var result = Materiality.Compare(approved, fresh);
            if (parseResult.GetValue(json))
            {
                var node = new JsonObject
                {
                    ["material"] = result.IsMaterial,
                    ["approved_digest"] = PlanSummaryJson.Digest(approved),
                    ["fresh_digest"] = PlanSummaryJson.Digest(fresh),
                    ["reasons"] = new JsonArray([.. result.Reasons.Select(r => (JsonNode)new JsonObject
                    {
                        ["kind"] = r.Kind,
                        ["address"] = r.Address,
                        ["detail"] = r.Detail,
                        ["material"] = r.Material,
                    })]),
                };
                Console.Out.WriteLine(node.ToJsonString(Indented));
            }
            else
            {
                Console.Out.WriteLine(result.IsMaterial ? "material delta: new approval required" : "equivalent: no material delta");
                foreach (var reason in result.Reasons)
                {
                    Console.Out.WriteLine($"  {(reason.Material ? "material" : "ignored ")}  {reason.Kind}: {reason.Detail}");
                }
            }

            return result.IsMaterial ? 3 : 0;
        });
        return command;
    }
}
