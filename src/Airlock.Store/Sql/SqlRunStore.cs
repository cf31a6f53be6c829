using System.Data.Common;
using System.Text.Json;

using Airlock.Domain.Runs;
using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>Runs and their append-only event log, shared by both backends.</summary>
internal sealed class SqlRunStore(SqlContext context) : IRunStore
{
    private const string SystemActor = "airlock";

    public async Task<RunRecord> CreateAsync(string runId, string stack, string environment, string? region, string initialState, string actor, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(transaction, "INSERT INTO runs (id, stack, environment, region, state, created_at, updated_at) VALUES (@id, @stack, @env, @region, @state, @now, @now)", cancellationToken,
            ("@id", runId), ("@stack", stack), ("@env", environment), ("@region", region), ("@state", initialState), ("@now", Db.Ms(now))).ConfigureAwait(false);
        await AppendEventAsync(connection, transaction, runId, null, initialState, now, actor, "run created", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new RunRecord(runId, stack, environment, initialState, Db.Instant(Db.Ms(now)), Db.Instant(Db.Ms(now)), region);
    }

    public async Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null, "SELECT id, stack, environment, state, created_at, updated_at, region FROM runs WHERE id = @id",
            ReadRun, cancellationToken, ("@id", runId)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public Task<RunEvent> TransitionAsync(string runId, string expectedFrom, string newState, string actor, string detail, CancellationToken cancellationToken) =>
        AppendCheckedEventAsync(runId, expectedFrom, newState, actor, detail, cancellationToken);

    public Task<RunEvent> AppendNoteAsync(string runId, string expectedState, string actor, string detail, CancellationToken cancellationToken) =>
        AppendCheckedEventAsync(runId, expectedState, expectedState, actor, detail, cancellationToken);

    public async Task SaveDetailsAsync(RunDetails details, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(details);
        ArgumentException.ThrowIfNullOrWhiteSpace(details.RunId);
        ArgumentOutOfRangeException.ThrowIfLessThan(details.Attempt, 1);
        RequireJsonObject(details.DetailJson);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(null,
            """
            INSERT INTO run_details (run_id, plan_id, requested_by, attempt, failure_class, statement, evidence_sequence, detail_json)
            VALUES (@run, @plan, @by, @attempt, @failure, @statement, @sequence, @detail)
            ON CONFLICT (run_id) DO UPDATE SET plan_id = excluded.plan_id, requested_by = excluded.requested_by, attempt = excluded.attempt,
              failure_class = excluded.failure_class, statement = excluded.statement, evidence_sequence = excluded.evidence_sequence,
              detail_json = excluded.detail_json
            """,
            cancellationToken,
            ("@run", details.RunId), ("@plan", details.PlanId), ("@by", details.RequestedBy), ("@attempt", details.Attempt), ("@failure", details.FailureClass),
            ("@statement", details.Statement), ("@sequence", details.EvidenceSequence), ("@detail", details.DetailJson)).ConfigureAwait(false);
    }

    public async Task<RunDetails?> GetDetailsAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null,
            "SELECT run_id, plan_id, requested_by, attempt, failure_class, statement, evidence_sequence, detail_json FROM run_details WHERE run_id = @run",
            r => new RunDetails(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.NullableString(4), r.NullableString(5), r.NullableInt64(6), r.GetString(7)),
            cancellationToken, ("@run", runId)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<bool> RequestCancelAsync(RunCancelRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.RunId) || string.IsNullOrWhiteSpace(request.Actor) || string.IsNullOrWhiteSpace(request.Reason))
        {
            throw new ArgumentException("a cancel request needs a run id, an actor and a reason");
        }

        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(null,
            "INSERT INTO run_cancel_requests (run_id, actor, reason, requested_at) VALUES (@run, @actor, @reason, @at) ON CONFLICT (run_id) DO NOTHING",
            cancellationToken, ("@run", request.RunId), ("@actor", request.Actor), ("@reason", request.Reason), ("@at", Db.Ms(request.RequestedAt))).ConfigureAwait(false) == 1;
    }

    public async Task<RunCancelRequest?> GetCancelRequestAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null,
            "SELECT run_id, actor, reason, requested_at FROM run_cancel_requests WHERE run_id = @run",
            r => new RunCancelRequest(r.GetString(0), r.GetString(1), r.GetString(2), Db.Instant(r.GetInt64(3))),
            cancellationToken, ("@run", runId)).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    public async Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        // Filters are added as text rather than "(@x IS NULL OR col = @x)" so each query can use its index
        // (runs_newest, runs_by_target, runs_by_target_region, runs_by_environment) and PostgreSQL never has to type an untyped null.
        var filters = new List<string>();
        var parameters = new List<(string, object?)> { ("@limit", query.Limit) };
        if (query.Stack is not null)
        {
            filters.Add("stack = @stack");
            parameters.Add(("@stack", query.Stack));
        }

        if (query.Environment is not null)
        {
            filters.Add("environment = @env");
            parameters.Add(("@env", query.Environment));
        }

        if (query.Region is not null)
        {
            filters.Add("region = @region");
            parameters.Add(("@region", query.Region));
        }

        if (query.State is not null)
        {
            filters.Add("state = @state");
            parameters.Add(("@state", query.State));
        }

        var where = filters.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", filters);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null, $"SELECT id, stack, environment, state, created_at, updated_at, region FROM runs{where} ORDER BY created_at DESC, id DESC LIMIT @limit",
            ReadRun, cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FinishedRun>> ListFinishedAsync(IReadOnlyList<string> states, string? environment, DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (states.Count == 0)
        {
            return [];
        }

        var parameters = new List<(string, object?)> { ("@since", Db.Ms(since)), ("@limit", limit) };
        var names = new List<string>();
        for (var i = 0; i < states.Count; i++)
        {
            names.Add($"@s{i}");
            parameters.Add(($"@s{i}", states[i]));
        }

        var byEnvironment = string.Empty;
        if (environment is not null)
        {
            byEnvironment = " AND r.environment = @env";
            parameters.Add(("@env", environment));
        }

        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null,
            $"""
            SELECT r.id, r.stack, r.environment, r.state, r.created_at, r.updated_at, r.region, d.failure_class, d.plan_id, p.commit_sha
            FROM runs r LEFT JOIN run_details d ON d.run_id = r.id LEFT JOIN plans p ON p.plan_id = d.plan_id
            WHERE r.state IN ({string.Join(", ", names)}) AND r.updated_at >= @since{byEnvironment}
            ORDER BY r.created_at DESC, r.id DESC LIMIT @limit
            """,
            r => new FinishedRun(ReadRun(r), r.NullableString(7), r.NullableString(8), r.NullableString(9)),
            cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RunRecord>> ListForPlanAsync(string planId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null,
            """
            SELECT r.id, r.stack, r.environment, r.state, r.created_at, r.updated_at, r.region
            FROM run_details d JOIN runs r ON r.id = d.run_id WHERE d.plan_id = @plan ORDER BY r.created_at DESC, r.id DESC
            """,
            ReadRun, cancellationToken, ("@plan", planId)).ConfigureAwait(false);
    }

    // A transition (or, with from == to, a note) checked against the current state under the run's row lock.
    private async Task<RunEvent> AppendCheckedEventAsync(string runId, string expectedFrom, string newState, string actor, string detail, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await context.Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var current = (string?)await connection.ScalarAsync(transaction, "SELECT state FROM runs WHERE id = @id" + context.Dialect.ForUpdate, cancellationToken, ("@id", runId)).ConfigureAwait(false);
        if (current != expectedFrom)
        {
            throw new RunStateConflictException(runId, expectedFrom, current);
        }

        await connection.ExecuteAsync(transaction, "UPDATE runs SET state = @state, updated_at = @now WHERE id = @id", cancellationToken, ("@state", newState), ("@now", Db.Ms(now)), ("@id", runId)).ConfigureAwait(false);
        var runEvent = await AppendEventAsync(connection, transaction, runId, expectedFrom, newState, now, actor, detail, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return runEvent;
    }

    public async Task<IReadOnlyList<RunEvent>> ReadEventsAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null, "SELECT id, run_id, from_state, to_state, at, actor, detail FROM run_events WHERE run_id = @id ORDER BY id",
            r => new RunEvent(r.GetInt64(0), r.GetString(1), r.NullableString(2), r.GetString(3), Db.Instant(r.GetInt64(4)), r.GetString(5), r.GetString(6)),
            cancellationToken, ("@id", runId)).ConfigureAwait(false);
    }

    /// <summary>
    /// Marks a run NeedsReconciliation inside the caller's transaction (a lapsed or force-removed lease). The event is
    /// written even when the run row is unknown here, so the loss is never silent.
    /// </summary>
    internal static async Task MarkForReconciliationAsync(SqlContext context, DbConnection connection, DbTransaction transaction, string runId, DateTimeOffset now, string? actor, string detail, CancellationToken cancellationToken)
    {
        var current = (string?)await connection.ScalarAsync(transaction, "SELECT state FROM runs WHERE id = @id" + context.Dialect.ForUpdate, cancellationToken, ("@id", runId)).ConfigureAwait(false);
        if (current is not null && current != RunState.NeedsReconciliation.WireName())
        {
            await connection.ExecuteAsync(transaction, "UPDATE runs SET state = @state, updated_at = @now WHERE id = @id", cancellationToken,
                ("@state", RunState.NeedsReconciliation.WireName()), ("@now", Db.Ms(now)), ("@id", runId)).ConfigureAwait(false);
        }

        await AppendEventAsync(connection, transaction, runId, current, RunState.NeedsReconciliation.WireName(), now, actor ?? SystemActor, detail, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RunStatistics> StatisticsAsync(DateTimeOffset since, IReadOnlyList<double> bucketSeconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bucketSeconds);
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var byState = new Dictionary<string, long>(StringComparer.Ordinal);
        var oldest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        // Served by runs_by_state (state, updated_at).
        foreach (var (state, count, min) in await connection.QueryAsync(null, "SELECT state, COUNT(*), MIN(updated_at) FROM runs GROUP BY state",
            r => (r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken).ConfigureAwait(false))
        {
            byState[state] = count;
            oldest[state] = Db.Instant(min);
        }

        var failures = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (failureClass, count) in await connection.QueryAsync(null, "SELECT failure_class, COUNT(*) FROM run_details WHERE failure_class IS NOT NULL GROUP BY failure_class",
            r => (r.GetString(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false))
        {
            failures[failureClass] = count;
        }

        // Each run of the window (runs_newest) with the instants its events (run_events_by_run) give for the start and end
        // of each phase; the first matching event counts, so notes (from = to) never move a start. Then one pass sums
        // each phase into its buckets with SUM(CASE), which works the same on SQLite and PostgreSQL.
        var phases = new (string Name, string Start, string End)[]
        {
            ("apply", $"e.to_state = '{W(RunState.Applying)}'",
                $"e.from_state IN ('{W(RunState.Applying)}', '{W(RunState.Verifying)}', '{W(RunState.Publishing)}') AND e.to_state IN ('{W(RunState.Succeeded)}', '{W(RunState.Failed)}', '{W(RunState.Cancelled)}')"),
            ("queue", $"e.to_state = '{W(RunState.Queued)}'", $"e.from_state = '{W(RunState.Queued)}' AND e.to_state = '{W(RunState.AcquiringLocks)}'"),
            ("lock", $"e.to_state = '{W(RunState.AcquiringLocks)}'", $"e.from_state = '{W(RunState.AcquiringLocks)}' AND e.to_state <> '{W(RunState.AcquiringLocks)}'"),
        };
        var parameters = new List<(string, object?)> { ("@since", Db.Ms(since)) };
        for (var i = 0; i < bucketSeconds.Count; i++)
        {
            parameters.Add(($"@b{i}", (long)Math.Round(bucketSeconds[i] * 1000)));
        }

        var inner = string.Join(", ", phases.Select(p => $"MIN(CASE WHEN {p.Start} THEN e.at END) AS {p.Name}_start, MIN(CASE WHEN {p.End} THEN e.at END) AS {p.Name}_end"));
        var columns = new List<string>();
        foreach (var (name, _, _) in phases)
        {
            var duration = $"(p.{name}_end - p.{name}_start)";
            columns.Add($"COUNT({duration})");
            columns.Add($"COALESCE(SUM({duration}), 0)");
            columns.AddRange(Enumerable.Range(0, bucketSeconds.Count).Select(i => $"COALESCE(SUM(CASE WHEN {duration} <= @b{i} THEN 1 ELSE 0 END), 0)"));
        }

        var sql = $"""
            SELECT {string.Join(", ", columns)}
            FROM (SELECT {inner} FROM runs r JOIN run_events e ON e.run_id = r.id WHERE r.created_at >= @since GROUP BY r.id) p
            """;
        var durations = (await connection.QueryAsync(null, sql, r =>
        {
            var result = new List<RunDurationStatistics>();
            var stride = 2 + bucketSeconds.Count;
            for (var phase = 0; phase < phases.Length; phase++)
            {
                var at = phase * stride;
                var buckets = new List<(double, long)>();
                for (var i = 0; i < bucketSeconds.Count; i++)
                {
                    buckets.Add((bucketSeconds[i], Long(r.GetValue(at + 2 + i))));
                }

                result.Add(new RunDurationStatistics(buckets, Long(r.GetValue(at)), Long(r.GetValue(at + 1)) / 1000.0));
            }

            return result;
        }, cancellationToken, [.. parameters]).ConfigureAwait(false))[0];
        return new RunStatistics(byState, oldest, failures, durations[0], durations[1], durations[2]);

        static string W(RunState state) => state.WireName();
        static long Long(object value) => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static RunRecord ReadRun(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Db.Instant(r.GetInt64(4)), Db.Instant(r.GetInt64(5)), r.NullableString(6));

    private static void RequireJsonObject(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return;
            }
        }
        catch (JsonException)
        {
            // Reported below, with the same message as any other non-object.
        }

        throw new ArgumentException("run detail_json must be a JSON object (\"{}\" when there is nothing to add)", nameof(json));
    }

    private static async Task<RunEvent> AppendEventAsync(DbConnection connection, DbTransaction transaction, string runId, string? from, string to, DateTimeOffset at, string actor, string detail, CancellationToken cancellationToken)
    {
        var id = Convert.ToInt64(await connection.ScalarAsync(transaction,
            "INSERT INTO run_events (run_id, from_state, to_state, at, actor, detail) VALUES (@run, @from, @to, @at, @actor, @detail) RETURNING id", cancellationToken,
            ("@run", runId), ("@from", from), ("@to", to), ("@at", Db.Ms(at)), ("@actor", actor), ("@detail", detail)).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        return new RunEvent(id, runId, from, to, Db.Instant(Db.Ms(at)), actor, detail);
    }
}
