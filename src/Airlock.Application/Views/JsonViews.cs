using System.Globalization;
using System.Text.Json.Nodes;

using Airlock.Application.Approvals;
using Airlock.Application.Plans;
using Airlock.Application.Releases;
using Airlock.Domain.Evidence;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;
using Airlock.Domain.Storage;

namespace Airlock.Application.Views;

/// <summary>
/// The JSON shapes machines read, built once for the CLI's <c>--json</c> and the server's API alike
/// (snake_case keys, instants as UTC <c>yyyy-MM-ddTHH:mm:ssZ</c>), so a client of either sees the same fields.
/// </summary>
public static class JsonViews
{
    /// <summary>An instant as UTC seconds, e.g. 2026-12-06T12:00:00Z.</summary>
    public static string Instant(DateTimeOffset instant) => instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A plan's decisions and where they stand (<c>airlock approvals --json</c>, GET /api/plans/{id}/approvals).</summary>
    public static JsonObject Approvals(PlanApprovals standing)
    {
        ArgumentNullException.ThrowIfNull(standing);
        return new JsonObject
        {
            ["plan_id"] = standing.Plan.PlanId,
            ["stack"] = standing.Plan.Stack,
            ["environment"] = standing.Plan.Environment,
            ["region"] = standing.Metadata.Region,
            ["requester"] = standing.Metadata.Requester,
            ["satisfied"] = standing.Verdict.Satisfied,
            ["rejection"] = standing.Rejection is { } rejection
                ? new JsonObject { ["rejecter"] = rejection.Rejecter, ["reason"] = rejection.Reason, ["rejected_at"] = Instant(rejection.RejectedAt) }
                : null,
            ["counted"] = new JsonArray([.. standing.Verdict.Counted.Select(a => (JsonNode)a)]),
            ["problems"] = new JsonArray([.. standing.Verdict.Problems.Select(p => (JsonNode)p)]),
            ["decisions"] = new JsonArray([.. standing.Decisions.Select(d => (JsonNode)new JsonObject
            {
                ["approver"] = d.Approver,
                ["decision"] = d.Decision,
                ["decided_at"] = Instant(d.DecidedAt),
                ["valid_until"] = Instant(d.ValidUntil),
                ["binding"] = JsonNode.Parse(d.BindingJson),
            })]),
        };
    }

    /// <summary>A plan's metadata for listings: target, commit, requester, expiry, counts and policy decision.</summary>
    public static JsonObject PlanHeader(PlanRecord plan, PlanMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(metadata);
        return new JsonObject
        {
            ["plan_id"] = plan.PlanId,
            ["stack"] = plan.Stack,
            ["environment"] = plan.Environment,
            ["region"] = plan.Region,
            ["commit"] = plan.Commit,
            ["branch"] = metadata.Branch,
            ["requester"] = metadata.Requester,
            ["mode"] = metadata.Mode,
            ["engine"] = metadata.Engine,
            ["created_at"] = Instant(plan.CreatedAt),
            ["expires_at"] = Instant(plan.ExpiresAt),
            ["plan_digest"] = plan.PlanDigest,
            ["has_changes"] = metadata.HasChanges,
            ["counts"] = metadata.Summary["counts"]?.DeepClone(),
            ["policy_decision"] = (string?)metadata.Policy["decision"],
        };
    }

    /// <summary>One plan in full: header, summary (counts, resources, risks), policy result, approvals.</summary>
    public static JsonObject Plan(PlanApprovals standing)
    {
        ArgumentNullException.ThrowIfNull(standing);
        var node = PlanHeader(standing.Plan, standing.Metadata);
        node["repository"] = standing.Metadata.Repository;
        node["base_branch"] = standing.Metadata.BaseBranch;
        node["tool_version"] = standing.Metadata.ToolVersion;
        node["state_serial"] = standing.Metadata.StateSerial;
        node["account"] = standing.Metadata.Account;
        node["identity_profile"] = standing.Metadata.IdentityProfile;
        node["approval_policy_version"] = standing.Metadata.ApprovalPolicyVersion;
        node["guarded_destroys"] = new JsonArray([.. standing.Metadata.GuardedDestroys.Select(a => (JsonNode)a)]);
        node["summary"] = standing.Metadata.Summary.DeepClone();
        var policy = standing.Metadata.Policy.DeepClone().AsObject();
        policy["digest"] = standing.Metadata.PolicyDigest;
        node["policy"] = policy;
        node["inputs"] = Inputs(standing.Metadata);
        node["approvals"] = Approvals(standing);
        return node;
    }

    /// <summary>Where a plan's inputs came from and their digest, null without inputs: never their values (some may be secrets).</summary>
    public static JsonObject? Inputs(PlanMetadata metadata) => metadata?.InputsDigest is null ? null : new JsonObject
    {
        ["digest"] = metadata.InputsDigest,
        ["from"] = new JsonObject((metadata.InputSources ?? new Dictionary<string, string>()).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
    };

    /// <summary>A run with its details (<c>airlock runs --json</c> rows).</summary>
    public static JsonObject Run(RunRecord run, RunDetails? details)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new JsonObject
        {
            ["run_id"] = run.Id,
            ["stack"] = run.Stack,
            ["environment"] = run.Environment,
            ["region"] = run.Region,
            ["state"] = run.State,
            ["created_at"] = Instant(run.CreatedAt),
            ["updated_at"] = Instant(run.UpdatedAt),
            ["plan_id"] = details?.PlanId,
            ["requested_by"] = details?.RequestedBy,
            ["failure_class"] = details?.FailureClass,
            ["statement"] = details?.Statement,
            ["evidence_sequence"] = details?.EvidenceSequence,
            ["detail"] = details is null ? null : JsonNode.Parse(details.DetailJson),
        };
    }

    /// <summary>A run with its timeline (<c>airlock run show --json</c>, GET /api/runs/{id}).</summary>
    public static JsonObject RunWithEvents(RunRecord run, RunDetails? details, IReadOnlyList<Airlock.Domain.Storage.RunEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var node = Run(run, details);
        node["events"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject
        {
            ["at"] = Instant(e.At),
            ["from"] = e.From,
            ["to"] = e.To,
            ["actor"] = e.Actor,
            ["detail"] = e.Detail,
        })]);
        // The evidence packet of the run's last attempt; earlier records are found by run id in the chain.
        node["evidence_ids"] = new JsonArray([.. details?.EvidenceSequence is { } sequence ? [(JsonNode)sequence] : Array.Empty<JsonNode>()]);
        return node;
    }

    /// <summary>The queue board (<c>airlock queue</c>, GET /api/queue).</summary>
    public static JsonObject Queue(IReadOnlyList<QueueView> views, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(views);
        return new JsonObject
        {
            ["queues"] = new JsonArray([.. views.Select(v => (JsonNode)new JsonObject
            {
                ["queue"] = v.Queue,
                ["concurrency"] = v.Concurrency,
                ["key"] = v.Key,
                ["current"] = new JsonArray([.. v.Current.Select(c => (JsonNode)new JsonObject
                {
                    ["id"] = c.Item.Id, ["run_id"] = c.Item.RunId, ["environment"] = c.Item.Environment, ["stack"] = c.Item.Stack,
                    ["priority_class"] = c.Item.PriorityClass, ["claimed_by"] = c.Item.ClaimedBy, ["running_seconds"] = (long)c.RunningFor.TotalSeconds,
                })]),
                ["waiting"] = new JsonArray([.. v.Waiting.Select(w => (JsonNode)new JsonObject
                {
                    ["id"] = w.Item.Id, ["run_id"] = w.Item.RunId, ["environment"] = w.Item.Environment, ["stack"] = w.Item.Stack,
                    ["priority_class"] = w.Item.PriorityClass, ["position"] = w.Position, ["age_seconds"] = (long)w.Age.TotalSeconds, ["blocked_reason"] = w.BlockedReason,
                })]),
                ["abandoned"] = new JsonArray([.. v.Abandoned.Select(a => (JsonNode)new JsonObject
                {
                    ["id"] = a.Item.Id, ["run_id"] = a.Item.RunId, ["environment"] = a.Item.Environment, ["stack"] = a.Item.Stack,
                    ["priority_class"] = a.Item.PriorityClass, ["claimed_by"] = a.Item.ClaimedBy, ["abandoned_at"] = Instant(a.AbandonedAt),
                    ["abandoned_seconds"] = (long)(now - a.AbandonedAt).TotalSeconds, ["description"] = a.Description,
                })]),
            })]),
        };
    }

    /// <summary>Held locks (<c>airlock locks</c>, GET /api/locks).</summary>
    public static JsonObject Locks(IReadOnlyList<LockLease> locks, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(locks);
        return new JsonObject
        {
            ["locks"] = new JsonArray([.. locks.Select(l => (JsonNode)new JsonObject
            {
                ["key"] = l.Key.Value,
                ["kind"] = l.Key.Kind.ToString().ToLowerInvariant(),
                ["run_id"] = l.Holder.RunId,
                ["actor"] = l.Holder.Actor,
                ["reason"] = l.Holder.Reason,
                ["since"] = Instant(l.Holder.Since),
                ["expires"] = Instant(l.Holder.Expires),
                ["age_seconds"] = (long)(now - l.Holder.Since).TotalSeconds,
                ["expired"] = l.IsExpiredAt(now),
                ["fencing_token"] = l.FencingToken,
            })]),
        };
    }

    /// <summary>An incident freeze (<c>airlock freeze list --json</c>).</summary>
    public static JsonObject Freeze(IncidentFreezeRecord f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return new JsonObject
        {
            ["environment"] = f.Environment,
            ["reason"] = f.Reason,
            ["active"] = f.IsActive,
            ["started_by"] = f.StartedBy,
            ["started_at"] = Instant(f.StartedAt),
            ["stopped_by"] = f.StoppedBy,
            ["stopped_at"] = f.StoppedAt is { } at ? Instant(at) : null,
        };
    }

    /// <summary>One evidence chain record, its payload embedded as JSON.</summary>
    public static JsonObject EvidenceRecord(ChainRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new JsonObject
        {
            ["sequence"] = record.Sequence,
            ["kind"] = record.Kind,
            ["run_id"] = record.RunId,
            ["recorded_at"] = record.RecordedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            ["payload"] = JsonNode.Parse(record.Payload),
            ["previous_hash"] = record.PreviousHash,
            ["hash"] = record.Hash,
        };
    }

    /// <summary>The result of verifying the chain and its signed checkpoints (<c>airlock evidence verify --json</c>).</summary>
    public static JsonObject Verification(ChainVerificationResult result, string source)
    {
        ArgumentNullException.ThrowIfNull(result);
        var failure = result.Failure;
        return new JsonObject
        {
            ["ok"] = result.Ok,
            ["source"] = source,
            ["records"] = result.RecordCount,
            ["first_sequence"] = result.FirstSequence,
            ["last_sequence"] = result.LastSequence,
            ["head_hash"] = result.HeadHash,
            ["checkpoints_verified"] = result.CheckpointsVerified,
            ["last_checkpoint_sequence"] = result.LastCheckpointSequence,
            ["unsigned_tail"] = result.UnsignedTail,
            ["key_ids"] = new JsonArray([.. result.KeyIds.Select(k => (JsonNode)k)]),
            ["failure"] = failure is null ? null : new JsonObject { ["code"] = failure.Code, ["sequence"] = failure.Sequence, ["line"] = failure.Line, ["message"] = failure.Message },
        };
    }

    /// <summary>A release with its progress (<c>airlock release show --json</c>).</summary>
    public static JsonObject Release(ReleaseView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var node = (JsonObject)JsonNode.Parse(view.Progress.ToJson())!;
        node["id"] = view.Record.Id;
        node["status"] = view.Record.State;
        node["owner"] = view.Record.Owner;
        node["lease_expires"] = view.Record.LeaseExpires is { } lease ? Instant(lease) : null;
        node["created_at"] = Instant(view.Record.CreatedAt);
        node["updated_at"] = Instant(view.Record.UpdatedAt);
        return node;
    }

    /// <summary>Where an application or infrastructure version was deployed and applied (<c>airlock trace --json</c>).</summary>
    public static JsonObject Trace(TraceResult trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return new JsonObject
        {
            ["kind"] = trace.Kind,
            ["version"] = trace.Version,
            ["deployments"] = new JsonArray([.. trace.Deployments.Select(d => (JsonNode)new JsonObject
            {
                ["tag"] = $"app:{d.AppVersion}-infra:{d.InfraVersion}",
                ["application"] = d.Application,
                ["app_version"] = d.AppVersion,
                ["infra_version"] = d.InfraVersion,
                ["commit"] = d.Commit,
                ["environment"] = d.Environment,
                ["region"] = d.Region,
                ["strategy"] = d.Strategy,
                ["color"] = d.Color,
                ["outcome"] = d.Outcome,
                ["release_id"] = d.ReleaseId,
                ["started_at"] = Instant(d.StartedAt),
                ["finished_at"] = d.FinishedAt is { } f ? Instant(f) : null,
            })]),
            ["stack_applies"] = new JsonArray([.. trace.StackApplies.Select(s => (JsonNode)new JsonObject
            {
                ["release_id"] = s.ReleaseId,
                ["environment"] = s.Environment,
                ["stack"] = s.Stack,
                ["region"] = s.Region,
                ["run_id"] = s.RunId,
                ["app_version"] = s.AppVersion,
                ["infra_version"] = s.InfraVersion,
            })]),
        };
    }
}
