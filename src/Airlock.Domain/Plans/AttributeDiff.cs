using System.Runtime.InteropServices;
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
    public static bool IsTagOnly(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            return false;
        }

        foreach (var path in paths)
        {
            if (!IsUnderTags(path))
            {
                return false;
            }
        }

        return true;
    }

    // "tags", "tags.team", "tags_all[0]"... (no string built per check: this runs for every path of every update).
    private static bool IsUnderTags(string path)
    {
        foreach (var tag in TagAttributes)
        {
            if (path.StartsWith(tag, StringComparison.Ordinal) && (path.Length == tag.Length || path[tag.Length] is '.' or '['))
            {
                return true;
            }
        }

        return false;
    }

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
            var beforeObject = before!.Value;
            var afterObject = after!.Value;

            // Terraform writes attributes in the same (sorted) order on both sides: walk after in
            // step with before and look a name up only when the orders part (a linear search each).
            var afterCursor = afterObject.EnumerateObject();
            var afterHasCurrent = afterCursor.MoveNext();
            var inStep = true;
            foreach (var property in beforeObject.EnumerateObject())
            {
                JsonElement? afterValue;
                if (inStep && afterHasCurrent && SameName(afterCursor.Current, property))
                {
                    afterValue = afterCursor.Current.Value;
                    afterHasCurrent = afterCursor.MoveNext();
                }
                else
                {
                    inStep = false;
                    afterValue = TryGet(afterObject, property, out var a) ? a : null;
                }

                JsonElement? unknownValue = unknown is { ValueKind: JsonValueKind.Object } u && TryGet(u, property, out var m) ? m : null;

                // Most attributes of an update do not change: compare bytes before building a path or a name.
                if (!Unchanged(property.Value, afterValue, unknownValue))
                {
                    Child(property.Name, property.Value, afterValue, unknownValue, path, paths);
                }
            }

            if (inStep)
            {
                // Every before attribute matched after's in order: the rest of after is what is new.
                while (afterHasCurrent)
                {
                    var property = afterCursor.Current;
                    Child(property.Name, null, property.Value, Member(unknown, property.Name), path, paths);
                    afterHasCurrent = afterCursor.MoveNext();
                }
            }
            else
            {
                foreach (var property in afterObject.EnumerateObject())
                {
                    if (!TryGet(beforeObject, property, out _))
                    {
                        Child(property.Name, null, property.Value, Member(unknown, property.Name), path, paths);
                    }
                }
            }

            // Unknown attributes may be absent from after entirely.
            if (unknown is { ValueKind: JsonValueKind.Object } unknownObject)
            {
                foreach (var property in unknownObject.EnumerateObject())
                {
                    if (!TryGet(beforeObject, property, out _) && !TryGet(afterObject, property, out _))
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

        if (beforeKind != afterKind || (beforeKind != JsonValueKind.Undefined && !JsonMarshal.GetRawUtf8Value(before!.Value).SequenceEqual(JsonMarshal.GetRawUtf8Value(after!.Value))))
        {
            Add(path, paths);
        }
    }

    /// <summary>
    /// True when <see cref="Walk"/> would add no path: identical raw values (so identical at every
    /// depth) with no unknown mark below. Only `true` marks ever add a path, so marks without any
    /// `true` literal cannot matter.
    /// </summary>
    private static bool Unchanged(JsonElement before, JsonElement? after, JsonElement? unknown) =>
        after is { } a
        && (unknown is not { } u || JsonMarshal.GetRawUtf8Value(u).IndexOf("true"u8) < 0)
        && JsonMarshal.GetRawUtf8Value(before).SequenceEqual(JsonMarshal.GetRawUtf8Value(a));

    // Looks a member up by the other object's raw UTF-8 name: no string per property. Escaped
    // names take the string path, which compares unescaped text, as before.
    private static bool TryGet(JsonElement obj, JsonProperty property, out JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        return raw.IndexOf((byte)'\\') < 0 ? obj.TryGetProperty(raw, out value) : obj.TryGetProperty(property.Name, out value);
    }

    private static bool SameName(JsonProperty a, JsonProperty b) =>
        JsonMarshal.GetRawUtf8PropertyName(a).SequenceEqual(JsonMarshal.GetRawUtf8PropertyName(b));

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
