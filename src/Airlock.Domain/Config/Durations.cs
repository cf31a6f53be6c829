using System.Globalization;

namespace Airlock.Domain.Config;

/// <summary>
/// Parses the config's duration syntax: one or more of <c>Nd</c>, <c>Nh</c>, <c>Nm</c>, <c>Ns</c>
/// in that order, each at most once, whole numbers only (<c>30s</c>, <c>5m</c>, <c>1h30m</c>, <c>2d</c>).
/// </summary>
public static class Durations
{
    private const string Units = "dhms";

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="reason"/> says why in a few words.</summary>
    public static bool TryParse(string text, out TimeSpan duration, out string reason)
    {
        duration = TimeSpan.Zero;
        reason = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            reason = "a duration cannot be empty; write e.g. 30s, 5m, 4h, 1h30m or 2d";
            return false;
        }

        if (text.StartsWith('-'))
        {
            reason = "a duration cannot be negative";
            return false;
        }

        var total = TimeSpan.Zero;
        var lastUnit = -1;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start)
            {
                reason = text[i] == '.' || text[i] == ','
                    ? "fractions are not allowed; write 1h30m instead of 1.5h"
                    : $"unexpected '{text[i]}'; write e.g. 30s, 5m, 4h, 1h30m or 2d";
                return false;
            }

            if (i < text.Length && (text[i] == '.' || text[i] == ','))
            {
                reason = "fractions are not allowed; write 1h30m instead of 1.5h";
                return false;
            }

            if (i == text.Length)
            {
                reason = $"'{text[start..i]}' has no unit; add s, m, h or d (e.g. {text[start..i]}s)";
                return false;
            }

            if (char.IsWhiteSpace(text[i]))
            {
                reason = "spaces are not allowed; write e.g. 5m or 1h30m";
                return false;
            }

            var unitEnd = i;
            while (unitEnd < text.Length && char.IsAsciiLetter(text[unitEnd]))
            {
                unitEnd++;
            }

            var unit = unitEnd == i + 1 ? Units.IndexOf(text[i], StringComparison.Ordinal) : -1;
            if (unit < 0)
            {
                reason = unitEnd == i ? $"unexpected '{text[i]}'; write e.g. 30s, 5m, 4h, 1h30m or 2d" : $"unknown unit '{text[i..unitEnd]}'; use s, m, h or d";
                return false;
            }

            if (unit <= lastUnit)
            {
                reason = "units must appear once each, largest first (d, h, m, s)";
                return false;
            }

            if (!long.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 100_000)
            {
                reason = "the number is too large";
                return false;
            }

            total += text[i] switch
            {
                'd' => TimeSpan.FromDays(amount),
                'h' => TimeSpan.FromHours(amount),
                'm' => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromSeconds(amount),
            };
            lastUnit = unit;
            i++;
        }

        duration = total;
        return true;
    }

    /// <summary>Formats a duration back into the config syntax (largest units first).</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var parts = new System.Text.StringBuilder();
        if (duration.Days > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{duration.Days}d");
        }

        if (duration.Hours > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{duration.Hours}h");
        }

        if (duration.Minutes > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{duration.Minutes}m");
        }

        if (duration.Seconds > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{duration.Seconds}s");
        }

        return parts.ToString();
    }
}
