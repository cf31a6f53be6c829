namespace Airlock.Domain.Approvals;

/// <summary>
/// An eligible approver's explicit "no" to one plan. It stands for the whole life of that plan:
/// no approval or break-glass grant outweighs it; only a fresh plan (a new plan id) starts over.
/// </summary>
/// <param name="Rejecter">The authenticated actor who rejected; never a field a client chooses.</param>
/// <param name="Reason">Why, in the rejecter's words (required).</param>
/// <param name="RejectedAt">When.</param>
public sealed record Rejection(string Rejecter, string Reason, DateTimeOffset RejectedAt)
{
    /// <summary>The one line shown wherever the rejection blocks something: "rejected by X: reason".</summary>
    public string Statement => $"rejected by {Rejecter}: {Reason}";

    /// <summary>The rejection that blocks a plan (the earliest), or null when nobody rejected it.</summary>
    public static Rejection? Standing(IEnumerable<Rejection> rejections)
    {
        ArgumentNullException.ThrowIfNull(rejections);
        return rejections.OrderBy(r => r.RejectedAt).FirstOrDefault();
    }
}
