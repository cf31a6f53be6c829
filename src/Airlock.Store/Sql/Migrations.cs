using System.Data.Common;

namespace Airlock.Store.Sql;

/// <summary>Thrown when the database was migrated by a newer Airlock than this one.</summary>
public sealed class SchemaTooNewException(int found, int known)
    : InvalidOperationException($"the database schema is version {found} but this airlock knows versions up to {known}; upgrade airlock (refusing to touch a newer schema)")
{
    /// <summary>Version in the database.</summary>
    public int Found { get; } = found;

    /// <summary>Newest version this build knows.</summary>
    public int Known { get; } = known;
}

/// <summary>
/// Versioned schema. Each migration runs once, inside one transaction with its version row, under a
/// cross-process schema lock, so concurrent first starts are safe and a re-run is a no-op.
/// Append new versions; never edit an applied one.
/// </summary>
public static class Migrations
{
    private static readonly string[][] Versions =
    [
        // Version 1: the whole initial model. Instants are BIGINT Unix milliseconds except evidence
        // timestamps, kept as round-trip text because they are hashed.
        [
            """
            CREATE TABLE plans (
              plan_id TEXT PRIMARY KEY, stack TEXT NOT NULL, environment TEXT NOT NULL, commit_sha TEXT NOT NULL,
              plan_digest TEXT NOT NULL, artifact_sha256 TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
              metadata_json TEXT NOT NULL, key_id TEXT NOT NULL, nonce {blob} NOT NULL, ciphertext {blob} NOT NULL, tag {blob} NOT NULL)
            """,
            """
            CREATE TABLE approvals (
              id {id}, plan_id TEXT NOT NULL, approver TEXT NOT NULL, decision TEXT NOT NULL, decided_at BIGINT NOT NULL,
              valid_until BIGINT NOT NULL, binding_json TEXT NOT NULL)
            """,
            "CREATE INDEX approvals_by_plan ON approvals (plan_id)",
            """
            CREATE TABLE runs (
              id TEXT PRIMARY KEY, stack TEXT NOT NULL, environment TEXT NOT NULL, state TEXT NOT NULL,
              created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE run_events (
              id {id}, run_id TEXT NOT NULL, from_state TEXT NULL, to_state TEXT NOT NULL, at BIGINT NOT NULL,
              actor TEXT NOT NULL, detail TEXT NOT NULL)
            """,
            "CREATE INDEX run_events_by_run ON run_events (run_id, id)",
            // The fencing counter lives apart from the lock row so it survives release and never goes backwards.
            "CREATE TABLE lock_fences (lock_key TEXT PRIMARY KEY, last_token BIGINT NOT NULL)",
            """
            CREATE TABLE locks (
              lock_key TEXT PRIMARY KEY, run_id TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL,
              since BIGINT NOT NULL, expires BIGINT NOT NULL, fencing_token BIGINT NOT NULL)
            """,
            // One row per queue: claimers lock it so a concurrency limit cannot be overshot by racing claims.
            "CREATE TABLE queue_heads (queue TEXT PRIMARY KEY)",
            """
            CREATE TABLE queue_items (
              id {id}, queue TEXT NOT NULL, run_id TEXT NOT NULL, environment TEXT NOT NULL, stack TEXT NOT NULL,
              priority_class TEXT NOT NULL, priority_rank INTEGER NOT NULL, concurrency_key TEXT NULL,
              required_locks TEXT NOT NULL, hold_reason TEXT NULL, state TEXT NOT NULL, enqueued_at BIGINT NOT NULL,
              claimed_at BIGINT NULL, claimed_by TEXT NULL, finished_at BIGINT NULL, outcome TEXT NULL)
            """,
            "CREATE INDEX queue_items_line ON queue_items (queue, state, priority_rank, id)",
            "CREATE TABLE evidence_head (id INTEGER PRIMARY KEY, last_sequence BIGINT NOT NULL)",
            "INSERT INTO evidence_head (id, last_sequence) VALUES (1, 0)",
            """
            CREATE TABLE evidence_records (
              sequence BIGINT PRIMARY KEY, kind TEXT NOT NULL, run_id TEXT NULL, recorded_at TEXT NOT NULL,
              payload TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL)
            """,
            """
            CREATE TABLE evidence_checkpoints (
              sequence BIGINT NOT NULL, record_count BIGINT NOT NULL, head_hash TEXT NOT NULL, key_id TEXT NOT NULL,
              algorithm TEXT NOT NULL, signature TEXT NOT NULL, signed_at TEXT NOT NULL, PRIMARY KEY (sequence, key_id))
            """,
            """
            CREATE TABLE releases (
              id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL,
              created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, detail_json TEXT NOT NULL)
            """,
        ],

        // Version 2: the governed apply: incident freezes, run details, run listing.
        [
            """
            CREATE TABLE incident_freezes (
              id {id}, environment TEXT NOT NULL, reason TEXT NOT NULL, started_by TEXT NOT NULL, started_at BIGINT NOT NULL,
              stopped_by TEXT NULL, stopped_at BIGINT NULL)
            """,
            // The database, not the caller, guarantees at most one active freeze per environment, across processes.
            "CREATE UNIQUE INDEX incident_freezes_one_active ON incident_freezes (environment) WHERE stopped_at IS NULL",
            """
            CREATE TABLE run_details (
              run_id TEXT PRIMARY KEY, plan_id TEXT NOT NULL, requested_by TEXT NOT NULL, attempt INTEGER NOT NULL,
              failure_class TEXT NULL, statement TEXT NULL, evidence_sequence BIGINT NULL, detail_json TEXT NOT NULL)
            """,
            // Run listings are newest first, over everything or narrowed to a stack and/or an environment.
            "CREATE INDEX runs_newest ON runs (created_at, id)",
            "CREATE INDEX runs_by_target ON runs (stack, environment, created_at, id)",
            "CREATE INDEX runs_by_environment ON runs (environment, created_at, id)",
            // Approvals refuse superseded plans: the newest plan per target is looked up on every approve.
            "CREATE INDEX plans_by_target ON plans (stack, environment, created_at)",
            // A cancel request from another person or process; the process running the apply polls for it.
            "CREATE TABLE run_cancel_requests (run_id TEXT PRIMARY KEY, actor TEXT NOT NULL, reason TEXT NOT NULL, requested_at BIGINT NOT NULL)",
        ],

        // Version 3: regions as a target dimension (waves run a stack once per region). NULL = the
        // target has no region (a single-region environment), which is what every earlier row is.
        [
            "ALTER TABLE plans ADD COLUMN region TEXT NULL",
            "ALTER TABLE runs ADD COLUMN region TEXT NULL",
            // The superseded-plan check and the blocked-target check look up the newest plan/run per (stack, environment, region).
            "CREATE INDEX plans_by_target_region ON plans (stack, environment, region, created_at)",
            "DROP INDEX plans_by_target",
            "CREATE INDEX runs_by_target_region ON runs (stack, environment, region, created_at, id)",
        ],

        // Version 4: releases ownership and deployments.
        [
            // The process driving a release holds it under a lease, so a crashed driver's release can be resumed elsewhere.
            "ALTER TABLE releases ADD COLUMN commit_sha TEXT NULL",
            "ALTER TABLE releases ADD COLUMN owner TEXT NULL",
            "ALTER TABLE releases ADD COLUMN lease_expires BIGINT NULL",
            "CREATE INDEX releases_newest ON releases (created_at, id)",
            """
            CREATE TABLE deployments (
              id {id}, release_id TEXT NOT NULL, application TEXT NOT NULL, environment TEXT NOT NULL, region TEXT NULL,
              app_version TEXT NOT NULL, infra_version TEXT NOT NULL, commit_sha TEXT NOT NULL, strategy TEXT NOT NULL,
              color TEXT NULL, outcome TEXT NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT NULL, detail_json TEXT NOT NULL)
            """,
            // The database, not the caller, guarantees at most one live deployment per target, across processes;
            // COALESCE because a unique index treats NULLs as distinct, and "no region" is one target.
            "CREATE UNIQUE INDEX deployments_one_live ON deployments (application, environment, COALESCE(region, '')) WHERE outcome = 'live'",
            "CREATE INDEX deployments_by_target ON deployments (application, environment, region, started_at, id)",
            "CREATE INDEX deployments_by_app_version ON deployments (app_version, started_at, id)",
            "CREATE INDEX deployments_by_infra_version ON deployments (infra_version, started_at, id)",
            "CREATE INDEX deployments_by_commit ON deployments (commit_sha)",
            "CREATE INDEX deployments_by_release ON deployments (release_id, started_at, id)",
            "CREATE INDEX deployments_newest ON deployments (started_at, id)",
        ],

        // Version 5: claims of queue items get a lease, renewed by the claimer, so a crashed claimer does not hold
        // its slot for ever. Claims made before this version get the default two-minute lease from their claim time.
        [
            "ALTER TABLE queue_items ADD COLUMN claimed_until BIGINT NULL",
            "UPDATE queue_items SET claimed_until = claimed_at + 120000 WHERE state = 'claimed'",
        ],

        // Version 6: API tokens of the server, stored by SHA-256 only.
        [
            """
            CREATE TABLE api_tokens (
              id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, actor TEXT NOT NULL, teams TEXT NOT NULL,
              created_by TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NULL,
              revoked_at BIGINT NULL, revoked_by TEXT NULL, last_used_at BIGINT NULL)
            """,
        ],

        // Version 7 (api): indexes for the API's plan listings and the per-scrape run statistics of /metrics.
        [
            "CREATE INDEX plans_newest ON plans (created_at, plan_id)",
            "CREATE INDEX plans_by_environment ON plans (environment, created_at)",
            "CREATE INDEX runs_by_state ON runs (state, updated_at)",
            "CREATE INDEX run_details_by_failure ON run_details (failure_class)",
        ],
        // Version 8 (workers): durable apply requests claimed by the server's workers, and run logs streamed by any replica.
        [
            """
            CREATE TABLE apply_requests (
              run_id TEXT PRIMARY KEY, plan_id TEXT NOT NULL, actor TEXT NOT NULL, break_glass_incident TEXT NULL,
              break_glass_reason TEXT NULL, state TEXT NOT NULL, requested_at BIGINT NOT NULL, claimed_by TEXT NULL,
              claimed_at BIGINT NULL, claimed_until BIGINT NULL, finished_at BIGINT NULL, outcome TEXT NULL)
            """,
            "CREATE INDEX apply_requests_by_state ON apply_requests (state, requested_at, run_id)",
            "CREATE TABLE run_logs (run_id TEXT NOT NULL, seq BIGINT NOT NULL, at BIGINT NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (run_id, seq))",
        ],
        // Version 9: runs of a plan, read before each apply (an approved plan is applied at most once).
        [
            "CREATE INDEX run_details_by_plan ON run_details (plan_id)",
        ],
    ];

    /// <summary>The newest schema version this build knows.</summary>
    public static int LatestVersion => Versions.Length;

    /// <summary>Brings the database to <see cref="LatestVersion"/>; returns the version now applied.</summary>
    /// <exception cref="SchemaTooNewException">The database is newer than this build.</exception>
    public static Task<int> ApplyAsync(SqlDialect dialect, TimeProvider time, CancellationToken cancellationToken) =>
        ApplyAsync(dialect, time, LatestVersion, cancellationToken);

    /// <summary>Brings the database to <paramref name="targetVersion"/> only; tests use it to build an older database to upgrade.</summary>
    internal static async Task<int> ApplyAsync(SqlDialect dialect, TimeProvider time, int targetVersion, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetVersion, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(targetVersion, LatestVersion);
        ArgumentNullException.ThrowIfNull(dialect);
        ArgumentNullException.ThrowIfNull(time);
        // Already current: no DDL and no schema lock, so a least-privilege role (no CREATE on the schema)
        // can run every replica and command once an owner has migrated the database.
        var applied = await AppliedVersionAsync(dialect, cancellationToken).ConfigureAwait(false);
        if (applied > LatestVersion)
        {
            throw new SchemaTooNewException(applied.Value, LatestVersion);
        }

        if (applied >= targetVersion)
        {
            return applied.Value;
        }

        await using var connection = await dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await dialect.LockSchemaAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(transaction, "CREATE TABLE IF NOT EXISTS airlock_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)", cancellationToken).ConfigureAwait(false);
        var current = Convert.ToInt32(await connection.ScalarAsync(transaction, "SELECT COALESCE(MAX(version), 0) FROM airlock_schema", cancellationToken).ConfigureAwait(false) ?? 0, System.Globalization.CultureInfo.InvariantCulture);
        if (current > LatestVersion)
        {
            throw new SchemaTooNewException(current, LatestVersion);
        }

        for (var version = current + 1; version <= targetVersion; version++)
        {
            foreach (var statement in Versions[version - 1])
            {
                await connection.ExecuteAsync(transaction, dialect.Ddl(statement), cancellationToken).ConfigureAwait(false);
            }

            await connection.ExecuteAsync(transaction, "INSERT INTO airlock_schema (version, applied_at) VALUES (@v, @at)", cancellationToken, ("@v", version), ("@at", Db.Ms(time.GetUtcNow()))).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return Math.Max(current, targetVersion);
    }

    /// <summary>The schema version recorded in the database, or null when it has no schema table yet.</summary>
    private static async Task<int?> AppliedVersionAsync(SqlDialect dialect, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var value = await connection.ScalarAsync(null, "SELECT COALESCE(MAX(version), 0) FROM airlock_schema", cancellationToken).ConfigureAwait(false);
            return Convert.ToInt32(value ?? 0, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.Data.Common.DbException)
        {
            return null; // no airlock_schema table: a new database
        }
    }
}
