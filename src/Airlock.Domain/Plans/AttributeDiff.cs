using System.Text;
using System.Text.Json;

namespace Airlock.Domain.Plans;

/// <summary>Computes which attribute paths differ between a before and an after value. Paths only, never values.</summary>
internal static class AttributeDiff
{
    /// <summary>A cap so that one pathological resource cannot blow up the summary.</summary>
    public const int MaxPaths = 200;

    private static readonly string[] TagAttributes = ["tags", "tags_all", "labels", "effective_labels", "terraform_labels", "tagsAll"];

    /// <summary>Paths that change; <paramref name="afterUnknown"/> marks values known only after apply.</summary>
    public static List<string> ChangedPaths(JsonElement? before, JsonElement? after, JsonElement? afterUnknown)
    {
        var paths = new List<string>();
        var path = new StringBuilder();
        Walk(before, after, afterUnknown, path, paths);
        return paths;
    }

    /// <summary>True when every changed path is under a tag/label attribute.</summary>
    public static bool IsTagOnly(IReadOnlyList<string> paths) =>
        paths.Count > 0 && paths.All(p => TagAttributes.Any(t => p == t || p.StartsWith(t + ".", StringComparison.Ordinal) || p.StartsWith(t + "[", StringComparison.Ordinal)));

    private static void Walk(JsonElement? before, JsonElement? after, JsonElement? unknown, StringBuilder path, List<string> paths)
    {
        if (paths.Count >= MaxPaths)
        {
            return;
        }

        if (unknown is { ValueKind: JsonValueKind.True })
        {
            Add(path, paths);
            return;
        }

        var beforeKind = before?.ValueKind ?? JsonValueKind.Undefined;
        var afterKind = after?.ValueKind ?? JsonValueKind.Undefined;
        if (beforeKind == JsonValueKind.Object && afterKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in before!.Value.EnumerateObject())
            {
                seen.Add(property.Name);
                Child(property.Name, property.Value, after!.Value.TryGetProperty(property.Name, out var a) ? a : null, Member(unknown, property.Name), path, paths);
            }

            foreach (var property in after!.Value.EnumerateObject())
            {
                if (!seen.Contains(property.Name))
                {
                    Child(property.Name, null, property.Value, Member(unknown, property.Name), path, paths);
                }
            }

            // Unknown attributes may be absent from after entirely.
            if (unknown is { ValueKind: JsonValueKind.Object } u)
            {
                foreach (var property in u.EnumerateObject())
                {
                    if (!seen.Contains(property.Name) && !after.Value.TryGetProperty(property.Name, out _))
                    {
                        Child(property.Name, null, null, property.Value, path, paths);
                    }
                }
            }

            return;
        }

        if (beforeKind == JsonValueKind.Object || afterKind == JsonValueKind.Object)
        {
            // Created or removed object at the root: list its top-level attributes that hold values.
            if (path.Length == 0)
            {
                var present = (afterKind == JsonValueKind.Object ? after : before)!.Value;
                foreach (var property in present.EnumerateObject())
                {
                    if (property.Value.ValueKind != JsonValueKind.Null)
                    {
                        paths.Add(property.Name);
                    }
                }

                return;
            }

            Add(path, paths);
            return;
        }

        if (beforeKind == JsonValueKind.Array && afterKind == JsonValueKind.Array)
        {
            var b = before!.Value;
            var a = after!.Value;
            var length = Math.Max(b.GetArrayLength(), a.GetArrayLength());
            for (var i = 0; i < length; i++)
            {
                var mark = path.Length;
                path.Append('[').Append(i).Append(']');
                Walk(i < b.GetArrayLength() ? b[i] : null, i < a.GetArrayLength() ? a[i] : null, Index(unknown, i), path, paths);
                path.Length = mark;
            }

            return;
        }

        if (beforeKind != afterKind || (beforeKind != JsonValueKind.Undefined && !before!.Value.GetRawText().Equals(after!.Value.GetRawText(), StringComparison.Ordinal)))
        {
            Add(path, paths);
        }
    }

    private static void Child(string name, JsonElement? before, JsonElement? after, JsonElement? unknown, StringBuilder path, List<string> paths)
    {
        var mark = path.Length;
        if (path.Length > 0)
        {
            path.Append('.');
        }

        path.Append(name);
        Walk(before, after, unknown, path, paths);
        path.Length = mark;
    }

    private static JsonElement? Member(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) ? value : null;

    private static JsonElement? Index(JsonElement? element, int index) =>
        element is { ValueKind: JsonValueKind.Array } e && index < e.GetArrayLength() ? e[index] : null;

    private static void Add(StringBuilder path, List<string> paths)
    {
        if (path.Length > 0 && paths.Count < MaxPaths)
        {
            paths.Add(path.ToString());
        }
    }
}
