using System.Data.Common;
using System.Globalization;

using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>
/// Deployments, shared by both backends. "At most one live deployment per (application, environment, region)"
/// is a partial unique index, so two processes making different deployments live at once cannot both succeed
/// blindly: the loser's transaction fails on the index and is retried, superseding the winner.
/// </summary>
internal sealed class SqlDeploymentStore(SqlContext context) : IDeploymentStore
{
    private const string Columns = "id, release_id, application, environment, region, app_version, infra_version, commit_sha, strategy, color, outcome, started_at, finished_at, detail_json";

    // Shortest commit prefix accepted as an infra version, as git's default abbreviation.
    private const int MinimumCommitPrefix = 7;

    // A live switch that lost a race on the unique index retries; bounded so a pathological storm cannot spin forever.
    private const int LiveAttempts = 5;

    public async Task<long> StartAsync(DeploymentRecord deployment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        Validate(deployment);
        return await WithLiveRetryAsync(async () =>
        {
            await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
            await using var transaction = await context.Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            if (deployment.Outcome == DeploymentOutcomes.Live)
            {
                await SupersedeLiveAsync(connection, transaction, deployment.Application, deployment.Environment, deployment.Region, null, ct).ConfigureAwait(false);
            }

            var id = Convert.ToInt64(await connection.ScalarAsync(transaction,
                """
                INSERT INTO deployments (release_id, application, environment, region, app_version, infra_version, commit_sha, strategy, color, outcome, started_at, finished_at, detail_json)
                VALUES (@release, @app, @env, @region, @appVersion, @infraVersion, @commit, @strategy, @color, @outcome, @started, @finished, @detail) RETURNING id
                """,
                ct, ("@release", deployment.ReleaseId), ("@app", deployment.Application), ("@env", deployment.Environment), ("@region", deployment.Region),
                ("@appVersion", deployment.AppVersion), ("@infraVersion", deployment.InfraVersion), ("@commit", deployment.Commit), ("@strategy", deployment.Strategy),
                ("@color", deployment.Color), ("@outcome", deployment.Outcome), ("@started", Db.Ms(deployment.StartedAt)),
                ("@finished", deployment.FinishedAt is { } finished ? Db.Ms(finished) : null), ("@detail", deployment.DetailJson)).ConfigureAwait(false), CultureInfo.InvariantCulture);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return id;
        }).ConfigureAwait(false);
    }

    public async Task FinishAsync(long id, string outcome, string? color, DateTimeOffset at, string detailJson, CancellationToken ct)
    {
        if (!DeploymentOutcomes.IsKnown(outcome) || outcome == DeploymentOutcomes.Deploying)
        {
            throw new ArgumentException($"a deployment finishes as one of {string.Join(", ", DeploymentOutcomes.All.Skip(1))}, not '{outcome}'", nameof(outcome));
        }

        JsonDetail.RequireObject(detailJson, "deployment detail_json");
        await WithLiveRetryAsync(async () =>
        {
            await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
            await using var transaction = await context.Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            var target = (await connection.QueryAsync(transaction, "SELECT application, environment, region FROM deployments WHERE id = @id" + context.Dialect.ForUpdate,
                r => (Application: r.GetString(0), Environment: r.GetString(1), Region: r.NullableString(2)), ct, ("@id", id)).ConfigureAwait(false))
                .SingleOrDefault();
            if (target.Application is null)
            {
                throw new InvalidOperationException($"no deployment with id {id}");
            }

            if (outcome == DeploymentOutcomes.Live)
            {
                await SupersedeLiveAsync(connection, transaction, target.Application, target.Environment, target.Region, id, ct).ConfigureAwait(false);
            }

            await connection.ExecuteAsync(transaction, "UPDATE deployments SET outcome = @outcome, color = COALESCE(@color, color), finished_at = @at, detail_json = @detail WHERE id = @id",
                ct, ("@outcome", outcome), ("@color", color), ("@at", Db.Ms(at)), ("@detail", detailJson), ("@id", id)).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return 0L;
        }).ConfigureAwait(false);
    }

    public async Task<DeploymentRecord?> LiveAsync(string application, string environment, string? region, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(application);
        ArgumentException.ThrowIfNullOrWhiteSpace(environment);
        var (regionSql, regionParameter) = RegionFilter(region);
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null,
            $"SELECT {Columns} FROM deployments WHERE application = @app AND environment = @env AND {regionSql} AND outcome = @live ORDER BY started_at DESC, id DESC LIMIT 1",
            Read, ct, [("@app", application), ("@env", environment), ("@live", DeploymentOutcomes.Live), .. regionParameter]).ConfigureAwait(false);
        return rows.SingleOrDefault();
    }

    public async Task<IReadOnlyList<DeploymentRecord>> ListAsync(DeploymentQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        // Filters are added as text (not "(@x IS NULL OR col = @x)") so each query can use an index and
        // PostgreSQL never has to type an untyped null.
        var filters = new List<string>();
        var parameters = new List<(string, object?)> { ("@limit", query.Limit) };
        void Equal(string column, string name, string? value)
        {
            if (value is not null)
            {
                filters.Add($"{column} = {name}");
                parameters.Add((name, value));
            }
        }

        Equal("application", "@app", query.Application);
        Equal("app_version", "@appVersion", query.AppVersion);
        Equal("environment", "@env", query.Environment);
        Equal("release_id", "@release", query.ReleaseId);
        if (query.Region is not null)
        {
            var (regionSql, regionParameter) = RegionFilter(query.Region);
            filters.Add(regionSql);
            parameters.AddRange(regionParameter);
        }

        if (query.InfraVersion is { } infra)
        {
            if (CommitPrefix(infra) is { } prefix)
            {
                // substr, not LIKE: LIKE is case-insensitive on SQLite and treats '_' and '%' specially on both.
                filters.Add("(infra_version = @infra OR substr(commit_sha, 1, @prefixLength) = @prefix)");
                parameters.Add(("@prefixLength", prefix.Length));
                parameters.Add(("@prefix", prefix));
            }
            else
            {
                filters.Add("infra_version = @infra");
            }

            parameters.Add(("@infra", infra));
        }

        var where = filters.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", filters);
        await using var connection = await context.Dialect.OpenAsync(ct).ConfigureAwait(false);
        return await connection.QueryAsync(null, $"SELECT {Columns} FROM deployments{where} ORDER BY started_at DESC, id DESC LIMIT @limit", Read, ct, [.. parameters]).ConfigureAwait(false);
    }

    // A commit prefix is at least 7 hex digits; shas are stored lower-case as git prints them.
    private static string? CommitPrefix(string infraVersion) =>
        infraVersion.Length >= MinimumCommitPrefix && infraVersion.All(char.IsAsciiHexDigit) ? infraVersion.ToLowerInvariant() : null;

    // "No region" is its own target: NULL must match NULL, which "region = @region" never does.
    private static (string Sql, (string, object?)[] Parameters) RegionFilter(string? region) =>
        region is null ? ("region IS NULL", []) : ("region = @region", [("@region", region)]);

    private static async Task SupersedeLiveAsync(DbConnection connection, DbTransaction transaction, string application, string environment, string? region, long? except, CancellationToken ct)
    {
        var (regionSql, regionParameter) = RegionFilter(region);
        var parameters = new List<(string, object?)> { ("@superseded", DeploymentOutcomes.Superseded), ("@app", application), ("@env", environment), ("@live", DeploymentOutcomes.Live) };
        parameters.AddRange(regionParameter);
        var exceptSql = string.Empty;
        if (except is { } keep)
        {
            exceptSql = " AND id <> @except";
            parameters.Add(("@except", keep));
        }

        await connection.ExecuteAsync(transaction,
            $"UPDATE deployments SET outcome = @superseded WHERE application = @app AND environment = @env AND {regionSql} AND outcome = @live{exceptSql}",
            ct, [.. parameters]).ConfigureAwait(false);
    }

    private async Task<long> WithLiveRetryAsync(Func<Task<long>> attempt)
    {
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt().ConfigureAwait(false);
            }
            catch (DbException error) when (context.Dialect.IsUniqueViolation(error) && number < LiveAttempts)
            {
                // Another process made a deployment of the same target live between our supersede and our update: go again.
            }
        }
    }

    private static void Validate(DeploymentRecord d)
    {
        foreach (var (value, name) in new[] { (d.ReleaseId, "release id"), (d.Application, "application"), (d.Environment, "environment"), (d.AppVersion, "app version"), (d.InfraVersion, "infra version"), (d.Commit, "commit"), (d.Strategy, "strategy") })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new ArgumentException($"a deployment needs a {name}", nameof(d));
            }
        }

        if (d.Region is not null && string.IsNullOrWhiteSpace(d.Region))
        {
            throw new ArgumentException("a deployment's region is a name or null (no region), never blank", nameof(d));
        }

        if (!DeploymentOutcomes.IsKnown(d.Outcome))
        {
            throw new ArgumentException($"unknown deployment outcome '{d.Outcome}' (expected one of {string.Join(", ", DeploymentOutcomes.All)})", nameof(d));
        }

        JsonDetail.RequireObject(d.DetailJson, "deployment detail_json");
    }

    private static DeploymentRecord Read(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.NullableString(4), r.GetString(5), r.GetString(6), r.GetString(7), r.GetString(8),
            r.NullableString(9), r.GetString(10), Db.Instant(r.GetInt64(11)), Db.Instant(r.NullableInt64(12)), r.GetString(13));
}
