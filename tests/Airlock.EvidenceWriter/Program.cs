// Usage: Airlock.EvidenceWriter <records.ndjson> <key-dir> <writer-name> <count>
// Appends <count> run events and packets (alternating) through the real EvidenceLog and NDJSON store,
// so a test can start several of these processes against one log and check the chain stays linear.
using System.Globalization;

using Airlock.Domain.Evidence;
using Airlock.Store.Evidence;
using Airlock.Store.Keys;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Airlock.EvidenceWriter <records.ndjson> <key-dir> <writer-name> <count>");
    return 2;
}

var (path, keyDir, writer, count) = (args[0], args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
using var signer = new EvidenceKeyStore(keyDir).LoadOrCreateSigner();
var log = new EvidenceLog(new NdjsonEvidenceRecordStore(path), signer, TimeProvider.System, new EvidenceLogOptions(CheckpointInterval: 7));
for (var i = 0; i < count; i++)
{
    var runId = $"{writer}-{i / 2}";
    if (i % 2 == 0)
    {
        await log.AppendRunEventAsync(new RunEvent(runId, "apply_started", "stack-" + writer, "prod", writer, TimeProvider.System.GetUtcNow(), new Dictionary<string, string>()), CancellationToken.None);
    }
    else
    {
        var now = TimeProvider.System.GetUtcNow();
        await log.AppendPacketAsync(
            new EvidencePacket(
                EvidencePacket.CurrentSchemaVersion,
                runId,
                1,
                new EvidenceSource("github.com/acme/infra", "abc123", "main", null),
                new EvidenceTarget("stack-" + writer, "prod", null, null, null),
                new EvidenceAuthorisation(writer, [], null, null),
                new EvidenceExecution(Environment.MachineName, "command", "1", null, new Dictionary<string, string>()),
                null,
                null,
                new EvidenceStateSerials(null, null),
                new EvidenceResult("succeeded", null, "ok", null, 0, now, now),
                [],
                [],
                []),
            CancellationToken.None);
    }
}

return 0;
