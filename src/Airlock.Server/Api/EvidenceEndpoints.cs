using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Views;
using Airlock.Domain.Evidence;
using Airlock.Store.Keys;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>The public key of the signer this replica uses (trusted by verify in addition to the workspace keyring).</summary>
/// <param name="SignerPublicKeyPem">PEM of the current signing key.</param>
public sealed record EvidencePublicKeys(string SignerPublicKeyPem);

/// <summary>The evidence chain: paged records, one record, verification, NDJSON export.</summary>
internal static class EvidenceEndpoints
{
    public static void MapEvidence(this IEndpointRouteBuilder api)
    {
        var evidence = api.MapGroup("/evidence").WithTags("evidence");
        evidence.MapGet("/", async (AirlockServices services, int? limit, long? after, CancellationToken cancellationToken) =>
        {
            var take = ApiLimits.Check(limit, 100);
            if (after is < 0)
            {
                throw new UserInputException("after must be a sequence number (0 or more)");
            }

            var records = new JsonArray();
            long? last = null;
            await foreach (var record in services.Store.Evidence.ReadAsync((after ?? 0) + 1, cancellationToken))
            {
                records.Add(JsonViews.EvidenceRecord(record));
                last = record.Sequence;
                if (records.Count == take)
                {
                    break;
                }
            }

            // next_after pages on: pass it as after= until it is null.
            return TypedResults.Ok(new JsonObject { ["records"] = records, ["next_after"] = records.Count == take ? last : null });
        }).WithName("ListEvidence").WithSummary("Evidence records in sequence order after a sequence (after=), a page at a time (limit=)");

        evidence.MapGet("/{sequence:long}", async (AirlockServices services, long sequence, CancellationToken cancellationToken) =>
        {
            await foreach (var record in services.Store.Evidence.ReadAsync(sequence, cancellationToken))
            {
                if (record.Sequence == sequence)
                {
                    return TypedResults.Ok(JsonViews.EvidenceRecord(record));
                }

                break;
            }

            throw new NotFoundException($"no evidence record {sequence}");
        }).WithName("GetEvidence").WithSummary("One evidence record by sequence number").Produces(StatusCodes.Status404NotFound);

        evidence.MapPost("/verify", async (AirlockServices services, EvidencePublicKeys keys, CancellationToken cancellationToken) =>
        {
            using var keyring = new EvidenceKeyring();
            var keyringFile = new EvidenceKeyStore(Path.Combine(services.Workspace.Root, ".airlock", "keys")).KeyringPath;
            if (File.Exists(keyringFile))
            {
                keyring.AddPem(await File.ReadAllTextAsync(keyringFile, cancellationToken));
            }

            keyring.AddPem(keys.SignerPublicKeyPem);
            var result = await EvidenceExport.VerifyStoreAsync(services.Store.Evidence, keyring, ChainVerifierOptions.Live, cancellationToken);
            return TypedResults.Ok(JsonViews.Verification(result, "store"));
        }).WithName("VerifyEvidence").WithSummary("Verifies the whole chain (hashes, order) and every signed checkpoint; ok=false names the first problem");

        evidence.MapGet("/export", async (HttpContext context, AirlockServices services, CancellationToken cancellationToken) =>
        {
            context.Response.ContentType = "application/x-ndjson";
            context.Response.Headers.ContentDisposition = "attachment; filename=\"airlock-evidence.ndjson\"";
            // Signs the head first, as `airlock evidence export` does, so the export verifies offline to its last record.
            await services.Evidence.ExportAsync(context.Response.Body, null, cancellationToken);
        }).WithName("ExportEvidence").WithSummary("The whole chain as NDJSON (header, records, signed checkpoints) for offline verification")
          .Produces<string>(StatusCodes.Status200OK, "application/x-ndjson");
    }
}
