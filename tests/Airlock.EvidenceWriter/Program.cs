// Usage: Airlock.EvidenceWriter <records.ndjson> <key-dir> <writer-name> <count>
//        Airlock.EvidenceWriter sqlite|postgres <database-file|connection-string> <key-dir> <writer-name> <count>
// Appends <count> run events and packets (alternating) through the real EvidenceLog and the NDJSON store or the
// SQL store, so a test can start several of these processes against one log and check the chain stays linear.
using System.Globalization;

using Airlock.Domain.Evidence;
using Airlock.Store;
using Airlock.Store.Evidence;
using Airlock.Store.Keys;
using Airlock.Store.Sql;

if (args.Length is not (4 or 5))
{
    Console.Error.WriteLine("usage: Airlock.EvidenceWriter [sqlite|postgres] <records.ndjson|database> <key-dir> <writer-name> <count>");
    return 2;
}

SqlAirlockStore? sql = args.Length == 5
    ? args[0] switch
    {
        "sqlite" => await AirlockStores.OpenSqliteAsync(args[1], new StoreOptions(), CancellationToken.None),
        "postgres" => await AirlockStores.OpenPostgresAsync(args[1], new StoreOptions(), CancellationToken.None),
        _ => throw new ArgumentException($"unknown backend {args[0]}"),
    }
    : null;
await using var _ = sql;
var rest = args[^4..];
var (path, keyDir, writer, count) = (rest[0], rest[1], rest[2], int.Parse(rest[3], CultureInfo.InvariantCulture));
using var signer = new EvidenceKeyStore(keyDir).LoadOrCreateSigner();
IEvidenceRecordStore store = sql is null ? new NdjsonEvidenceRecordStore(path) : sql.Evidence;
var log = new EvidenceLog(store, signer, TimeProvider.System, new EvidenceLogOptions(CheckpointInterval: 7));
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
