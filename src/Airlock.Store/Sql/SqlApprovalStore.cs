using System.Data.Common;

using Airlock.Domain.Storage;

namespace Airlock.Store.Sql;

/// <summary>Approval decisions, shared by both backends: inserted once, never updated or deleted.</summary>
internal sealed class SqlApprovalStore(SqlContext context) : IApprovalStore
{
    private const string Columns = "id, plan_id, approver, decision, decided_at, valid_until, binding_json";

    public async Task<ApprovalRecord> AddAsync(string planId, string approver, string decision, DateTimeOffset decidedAt, DateTimeOffset validUntil, string bindingJson, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);
        ArgumentException.ThrowIfNullOrWhiteSpace(approver);
        ArgumentNullException.ThrowIfNull(bindingJson);
        if (decision is not (ApprovalRecord.Approved or ApprovalRecord.Rejected or ApprovalRecord.BreakGlass))
        {
            throw new ArgumentException($"an approval decision is '{ApprovalRecord.Approved}', '{ApprovalRecord.Rejected}' or '{ApprovalRecord.BreakGlass}', not '{decision}'", nameof(decision));
        }

        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(null,
            $"INSERT INTO approvals (plan_id, approver, decision, decided_at, valid_until, binding_json) VALUES (@plan, @approver, @decision, @decided, @until, @binding) RETURNING {Columns}",
            Read, cancellationToken,
            ("@plan", planId), ("@approver", approver), ("@decision", decision), ("@decided", Db.Ms(decidedAt)), ("@until", Db.Ms(validUntil)), ("@binding", bindingJson)).ConfigureAwait(false);
        return rows[0];
    }

    public async Task<IReadOnlyList<ApprovalRecord>> ListForPlanAsync(string planId, CancellationToken cancellationToken)
    {
        await using var connection = await context.Dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync(null, $"SELECT {Columns} FROM approvals WHERE plan_id = @plan ORDER BY id", Read, cancellationToken, ("@plan", planId)).ConfigureAwait(false);
    }

    private static ApprovalRecord Read(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), Db.Instant(r.GetInt64(4)), Db.Instant(r.GetInt64(5)), r.GetString(6));
}
