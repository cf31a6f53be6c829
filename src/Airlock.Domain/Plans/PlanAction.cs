namespace Airlock.Domain.Plans;

/// <summary>What a plan does to one resource instance.</summary>
public enum PlanAction
{
    /// <summary>A new object is created.</summary>
    Create,

    /// <summary>The object is updated in place.</summary>
    Update,

    /// <summary>The object is destroyed and created again (see <see cref="ReplaceOrder"/>).</summary>
    Replace,

    /// <summary>The object is destroyed.</summary>
    Delete,

    /// <summary>A data source is read during apply.</summary>
    Read,

    /// <summary>Nothing changes.</summary>
    NoOp,

    /// <summary>The object leaves state but is not destroyed (Terraform 1.7+ `removed { destroy = false }`).</summary>
    Forget,
}

/// <summary>Order of a replacement: create-before-destroy keeps the old object alive until the new one exists.</summary>
public enum ReplaceOrder
{
    /// <summary>["delete","create"]: the default; there is a window without the object.</summary>
    DeleteBeforeCreate,

    /// <summary>["create","delete"]: create_before_destroy.</summary>
    CreateBeforeDestroy,
}

/// <summary>Managed resource or data source.</summary>
public enum ResourceMode
{
    /// <summary>A managed resource.</summary>
    Managed,

    /// <summary>A data source.</summary>
    Data,
}

/// <summary>The wire names of plan actions (stable: they appear in JSON output and digests).</summary>
public static class PlanActionNames
{
    /// <summary>Every action in display order.</summary>
    public static IReadOnlyList<PlanAction> All { get; } =
        [PlanAction.Delete, PlanAction.Replace, PlanAction.Create, PlanAction.Update, PlanAction.Forget, PlanAction.Read, PlanAction.NoOp];

    /// <summary>"create", "no-op", ...: the action as a resource entry shows it.</summary>
    public static string ToWire(this PlanAction action) => action switch
    {
        PlanAction.Create => "create",
        PlanAction.Update => "update",
        PlanAction.Replace => "replace",
        PlanAction.Delete => "delete",
        PlanAction.Read => "read",
        PlanAction.NoOp => "no-op",
        PlanAction.Forget => "forget",
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    /// <summary>"create", "no_op", ...: the key in the counts object.</summary>
    public static string ToCountKey(this PlanAction action) => action == PlanAction.NoOp ? "no_op" : action.ToWire();

    /// <summary>Parses a wire name ("no-op" or "no_op").</summary>
    public static PlanAction? FromWire(string? name) => name switch
    {
        "create" => PlanAction.Create,
        "update" => PlanAction.Update,
        "replace" => PlanAction.Replace,
        "delete" => PlanAction.Delete,
        "read" => PlanAction.Read,
        "no-op" or "no_op" => PlanAction.NoOp,
        "forget" => PlanAction.Forget,
        _ => null,
    };
}
