using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Airlock.Domain.Evidence;

/// <summary>One run as the evidence tells it: its target, who asked, how it ended.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Stack">Target stack.</param>
/// <param name="Environment">Target environment.</param>
/// <param name="Actor">The requester (from the packet) or the first actor seen in its events.</param>
/// <param name="Status">The packet's result status, or "in_progress" while only events exist.</param>
/// <param name="FailureClass">The failure class when it failed.</param>
/// <param name="Attempts">How many packets (attempts) the run has.</param>
/// <param name="StartedAt">Earliest time seen for the run.</param>
/// <param name="FinishedAt">When the last attempt finished.</param>
/// <param name="Tags">Release tags such as "app:v1.4.2-infra:v0.9.0".</param>
/// <param name="FirstSequence">First chain record of the run.</param>
/// <param name="LastSequence">Last chain record of the run.</param>
public sealed record RunSummary(
    string RunId,
    string Stack,
    string Environment,
    string? Actor,
    string Status,
    string? FailureClass,
    int Attempts,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<string> Tags,
    long FirstSequence,
    long LastSequence);

/// <summary>Filters for <see cref="EvidenceQueries.Runs"/>; null means any.</summary>
public sealed record RunFilter(string? Stack = null, string? Environment = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null, string? Actor = null, string? Status = null)
{
    /// <summary>Whether <paramref name="run"/> passes every given filter.</summary>
    public bool Matches(RunSummary run) =>
        (Stack is null || run.Stack == Stack)
        && (Environment is null || run.Environment == Environment)
        && (Since is null || (run.FinishedAt ?? run.StartedAt) >= Since)
        && (Until is null || run.StartedAt <= Until)
        && (Actor is null || run.Actor == Actor)
        && (Status is null || run.Status == Status);
}

/// <summary>How many runs failed with one failure class.</summary>
public sealed record FailureClassCount(string FailureClass, int Count, IReadOnlyList<string> RunIds);

/// <summary>An application version deployed together with an infrastructure version (from an "app:v…-infra:v…" tag).</summary>
public sealed record AppInfraVersion(string AppVersion, string InfraVersion, string RunId, string Stack, string Environment, DateTimeOffset? DeployedAt);

/// <summary>The queries incident responders need, as functions over the record stream.</summary>
public static class EvidenceQueries
{
    /// <summary>Folds the stream into one summary per run (in order of first appearance) and keeps those matching <paramref name="filter"/>.</summary>
    public static async Task<IReadOnlyList<RunSummary>> Runs(IAsyncEnumerable<ChainRecord> records, RunFilter filter, CancellationToken cancellationToken)
    {
        var runs = new Dictionary<string, RunSummary>(StringComparer.Ordinal);
        var order = new List<string>();
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            if (record.RunId is null)
            {
                continue;
            }

            runs.TryGetValue(record.RunId, out var current);
            var next = Fold(current, record);
            if (next is null)
            {
                continue;
            }

            if (current is null)
            {
                order.Add(record.RunId);
            }

            runs[record.RunId] = next;
        }

        return [.. order.Select(id => runs[id]).Where(filter.Matches)];
    }

    /// <summary>Every record of one run, in chain order.</summary>
    public static async IAsyncEnumerable<ChainRecord> RunRecords(IAsyncEnumerable<ChainRecord> records, string runId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            if (record.RunId == runId)
            {
                yield return record;
            }
        }
    }

    /// <summary>Failed runs grouped by failure class, most frequent first.</summary>
    public static IReadOnlyList<FailureClassCount> FailuresByClass(IEnumerable<RunSummary> runs) =>
        [.. runs.Where(r => r.Status == "failed")
            .GroupBy(r => r.FailureClass ?? "unclassified", StringComparer.Ordinal)
            .Select(g => new FailureClassCount(g.Key, g.Count(), [.. g.Select(r => r.RunId)]))
            .OrderByDescending(c => c.Count)
            .ThenBy(c => c.FailureClass, StringComparer.Ordinal)];

    /// <summary>Every successful deployment's "app:v…-infra:v…" tag, newest last.</summary>
    public static IReadOnlyList<AppInfraVersion> AppInfraVersions(IEnumerable<RunSummary> runs) =>
        [.. runs.Where(r => r.Status == "succeeded")
            .SelectMany(r => r.Tags.Select(t => (Run: r, Tag: ParseAppInfraTag(t))))
            .Where(x => x.Tag is not null)
            .Select(x => new AppInfraVersion(x.Tag!.Value.App, x.Tag.Value.Infra, x.Run.RunId, x.Run.Stack, x.Run.Environment, x.Run.FinishedAt))];

    /// <summary>Which infra version(s) <paramref name="appVersion"/> was deployed with.</summary>
    public static IReadOnlyList<AppInfraVersion> InfraForApp(IEnumerable<RunSummary> runs, string appVersion) =>
        [.. AppInfraVersions(runs).Where(v => v.AppVersion == appVersion)];

    /// <summary>Parses "app:v1.4.2-infra:v0.9.0" into ("v1.4.2", "v0.9.0"); null when it is not such a tag.</summary>
    public static (string App, string Infra)? ParseAppInfraTag(string tag)
    {
        const string AppPrefix = "app:";
        const string InfraMarker = "-infra:";
        if (!tag.StartsWith(AppPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        // Versions may contain '-' (v1.0.0-rc.1), so split on the last "-infra:".
        var marker = tag.LastIndexOf(InfraMarker, StringComparison.Ordinal);
        if (marker <= AppPrefix.Length || marker + InfraMarker.Length >= tag.Length)
        {
            return null;
        }

        return (tag[AppPrefix.Length..marker], tag[(marker + InfraMarker.Length)..]);
    }

    private static RunSummary? Fold(RunSummary? current, ChainRecord record)
    {
        try
        {
            switch (record.Kind)
            {
                case EvidenceChain.PacketKind:
                    var packet = EvidenceJson.ReadPacket(record.Payload);
                    return new RunSummary(
                        packet.RunId,
                        packet.Target.Stack,
                        packet.Target.Environment,
                        packet.Authorisation.Requester,
                        packet.Result.Status,
                        packet.Result.FailureClass,
                        (current?.Attempts ?? 0) + 1,
                        Min(current?.StartedAt, packet.Result.StartedAt),
                        packet.Result.FinishedAt,
                        packet.Tags,
                        current?.FirstSequence ?? record.Sequence,
                        record.Sequence);
                case EvidenceChain.RunEventKind:
                    var runEvent = EvidenceJson.ReadRunEvent(record.Payload);
                    return current is null
                        ? new RunSummary(runEvent.RunId, runEvent.Stack, runEvent.Environment, runEvent.Actor, "in_progress", null, 0, runEvent.At, null, [], record.Sequence, record.Sequence)
                        : current with { Actor = current.Actor ?? runEvent.Actor, StartedAt = Min(current.StartedAt, runEvent.At), LastSequence = record.Sequence };
                default:
                    return null;
            }
        }
        catch (JsonException)
        {
            // A payload of a kind this version does not understand is still chained evidence; queries skip it.
            return null;
        }
    }

    private static DateTimeOffset Min(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x < b ? x : b;
}
