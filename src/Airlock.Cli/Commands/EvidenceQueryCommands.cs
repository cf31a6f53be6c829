using System.CommandLine;
using System.Globalization;
using System.Text.Json;

using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence failures` and `airlock evidence versions`: the incident-response queries.</summary>
internal static class EvidenceQueryCommands
{
    public static Command CreateFailures()
    {
        var stack = new Option<string?>("--stack") { Description = "Only this stack." };
        var env = new Option<string?>("--env") { Description = "Only this environment." };
        var since = EvidenceCli.SinceOption("Only runs active at or after this time.");
        var json = EvidenceCli.JsonOption();
        var database = EvidenceCli.DatabaseOption();
        var command = new Command("failures", "Failed runs grouped by failure class.");
        foreach (var option in new Option[] { stack, env, since, json, database })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var filter = new RunFilter(parseResult.GetValue(stack), parseResult.GetValue(env), EvidenceCli.ParseSince(parseResult.GetValue(since), TimeProvider.System));
            var failures = EvidenceQueries.FailuresByClass(await EvidenceWorkspace.WithRecordsAsync(parseResult.GetValue(database), records => EvidenceQueries.Runs(records, filter, ct), ct));
            if (parseResult.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(failures, EvidenceCli.Json));
            }
            else
            {
                EvidenceText.Table(["CLASS", "COUNT", "RUNS"], failures.Select(f => new[] { f.FailureClass, f.Count.ToString(CultureInfo.InvariantCulture), string.Join(',', f.RunIds) }));
            }

            return EvidenceCli.Ok;
        }));
        return command;
    }

    public static Command CreateVersions()
    {
        var app = new Option<string?>("--app") { Description = "Only this application version (e.g. v1.4.2)." };
        var json = EvidenceCli.JsonOption();
        var database = EvidenceCli.DatabaseOption();
        var command = new Command("versions", "Which infrastructure version each application version was deployed with (app:v…-infra:v… tags).");
        command.Options.Add(app);
        command.Options.Add(json);
        command.Options.Add(database);
        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var runs = await EvidenceWorkspace.WithRecordsAsync(parseResult.GetValue(database), records => EvidenceQueries.Runs(records, new RunFilter(), ct), ct);
            var versions = parseResult.GetValue(app) is { } appVersion ? EvidenceQueries.InfraForApp(runs, appVersion) : EvidenceQueries.AppInfraVersions(runs);
            if (parseResult.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(versions, EvidenceCli.Json));
            }
            else
            {
                EvidenceText.Table(["APP", "INFRA", "STACK", "ENV", "RUN", "DEPLOYED"], versions.Select(v => new[] { v.AppVersion, v.InfraVersion, v.Stack, v.Environment, v.RunId, v.DeployedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-" }));
            }

            return EvidenceCli.Ok;
        }));
        return command;
    }
}
