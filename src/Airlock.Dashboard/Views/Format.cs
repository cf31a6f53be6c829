using System.Globalization;

namespace Airlock.Dashboard.Views;

/// <summary>How the pages write times, durations and numbers: short, UTC, invariant.</summary>
public static class Format
{
    /// <summary>e.g. 2026-12-06 12:03:45Z.</summary>
    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The ISO form for machine-readable attributes.</summary>
    public static string Iso(DateTimeOffset at) => at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>e.g. 45s, 12m 3s, 3h 20m, 2d 4h.</summary>
    public static string Duration(TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        span = span.Duration();
        var text = span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds}s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes}m {span.Seconds}s"
            : span.TotalHours < 24 ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : $"{(int)span.TotalDays}d {span.Hours}h";
        return negative ? "-" + text : text;
    }

    /// <summary>A duration or an em dash when unknown.</summary>
    public static string Duration(TimeSpan? span) => span is { } s ? Duration(s) : "—";

    /// <summary>Seconds as an invariant number (for data attributes tests and scripts read).</summary>
    public static string Seconds(TimeSpan? span) => span is { } s ? s.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) : string.Empty;

    /// <summary>A number with <paramref name="decimals"/> decimals.</summary>
    public static string Number(double value, int decimals = 2) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>A 0..1 rate as a percentage, or an em dash.</summary>
    public static string Percent(double? rate) => rate is { } r ? (r * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "—";

    /// <summary>The CSS class of a run state (final states coloured).</summary>
    public static string StateClass(string state) => state switch
    {
        "succeeded" => "ok",
        "failed" or "needs_reconciliation" or "rejected" => "bad",
        "cancelled" => "muted",
        _ => "live",
    };

    /// <summary>The first 12 characters of a sha or digest (after any "sha256:").</summary>
    public static string Abbreviate(string? hash) => hash is null ? "—" : (hash.StartsWith("sha256:", StringComparison.Ordinal) ? hash[7..] : hash) is var h && h.Length > 12 ? h[..12] : h;
}
