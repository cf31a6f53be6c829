using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Evidence;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence show RUN_ID`: every event and packet of one run, with their chain positions.</summary>
internal static class EvidenceShowCommand
{
    public static Command Create()
    {
        var runId = new Argument<string>("RUN_ID") { Description = "The run to show." };
        var json = EvidenceCli.JsonOption();
        var database = EvidenceCli.DatabaseOption();
        var server = EvidenceCli.ServerOption();
        var command = new Command("show", "Show the evidence of one run.");
        command.Arguments.Add(runId);
        command.Options.Add(json);
        command.Options.Add(database);
        command.Options.Add(server);
        command.SetAction((parseResult, ct) => EvidenceCli.RunAsync(async () =>
        {
            var id = parseResult.GetValue(runId)!;
            var records = await EvidenceCli.WithRecordsAsync(parseResult.GetValue(database), parseResult.GetValue(server), async all =>
            {
                var found = new List<ChainRecord>();
                await foreach (var record in EvidenceQueries.RunRecords(all, id, ct))
                {
                    found.Add(record);
                }

                return found;
            }, ct);

            if (records.Count == 0)
            {
                await Console.Error.WriteLineAsync($"airlock: no evidence recorded for run {id}");
                return EvidenceCli.Failed;
            }

            if (parseResult.GetValue(json))
            {
                var output = new JsonObject
                {
                    ["run_id"] = id,
                    ["records"] = new JsonArray([.. records.Select(r => (JsonNode)new JsonObject
                    {
                        ["sequence"] = r.Sequence,
                        ["kind"] = r.Kind,
                        ["recorded_at"] = EvidenceChain.FormatTime(r.RecordedAt),
                        ["hash"] = r.Hash,
                        ["payload"] = JsonNode.Parse(r.Payload),
                    })]),
                };
                Console.Out.WriteLine(output.ToJsonString(EvidenceCli.Json));
                return EvidenceCli.Ok;
            }

            Console.Out.WriteLine($"run {id}");
            foreach (var record in records)
            {
                var at = record.RecordedAt.ToString("u", CultureInfo.InvariantCulture);
                if (record.Kind == EvidenceChain.PacketKind)
                {
                    var packet = EvidenceJson.ReadPacket(record.Payload);
                    var failure = packet.Result.FailureClass is { } fc ? $" ({fc})" : "";
                    Console.Out.WriteLine($"  #{record.Sequence}  {at}  packet  attempt {packet.Attempt}: {packet.Result.Status}{failure}: {packet.Result.Statement}");
                    Console.Out.WriteLine($"      target {packet.Target.Stack}/{packet.Target.Environment}  requester {packet.Authorisation.Requester}  approvers {string.Join(',', packet.Authorisation.Approvals.Select(a => a.Approver))}");
                    Console.Out.WriteLine($"      source {packet.Source.Repository}@{packet.Source.Commit}  tool {packet.Execution.Tool} {packet.Execution.ToolVersion}  plan {packet.Plan?.Digest ?? "-"}");
                }
                else if (record.Kind == EvidenceChain.RunEventKind)
                {
                    var runEvent = EvidenceJson.ReadRunEvent(record.Payload);
                    Console.Out.WriteLine($"  #{record.Sequence}  {at}  event   {runEvent.Type}{(runEvent.Actor is { } actor ? " by " + actor : "")}");
                }
                else
                {
                    Console.Out.WriteLine($"  #{record.Sequence}  {at}  {record.Kind}");
                }
            }

            return EvidenceCli.Ok;
        }));
        return command;
    }
}
