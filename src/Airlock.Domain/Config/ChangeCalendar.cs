namespace Airlock.Domain.Config;

/// <summary>
/// Change windows and freezes of an environment, evaluated at an instant. Both read the
/// instant as wall-clock time in the environment's window time zone (UTC when no windows are
/// set), so a 09:00–17:00 window follows daylight-saving changes. Freezes are whole days,
/// from and to inclusive, in that same time zone.
/// </summary>
public static class ChangeCalendar
{
    /// <summary>
    /// True when <paramref name="instant"/> lies inside one of the environment's allowed
    /// periods (from inclusive, to exclusive). An environment without windows is always open.
    /// </summary>
    public static bool IsInsideWindow(EnvironmentConfig environment, DateTimeOffset instant)
    {
        if (environment.Windows is not { } windows)
        {
            return true;
        }

        var local = TimeZoneInfo.ConvertTime(instant, windows.TimeZone);
        var timeOfDay = local.TimeOfDay;
        return windows.Allow.Any(p => p.Days.Contains(local.DayOfWeek) && timeOfDay >= p.From && timeOfDay < p.To);
    }

    /// <summary>True when the clock's current instant is inside a window; see <see cref="IsInsideWindow(EnvironmentConfig, DateTimeOffset)"/>.</summary>
    public static bool IsInsideWindow(EnvironmentConfig environment, TimeProvider clock) => IsInsideWindow(environment, clock.GetUtcNow());

    /// <summary>The freeze covering the clock's current instant, or null.</summary>
    public static Freeze? ActiveFreeze(EnvironmentConfig environment, TimeProvider clock) => ActiveFreeze(environment, clock.GetUtcNow());

    /// <summary>The freeze covering <paramref name="instant"/>, or null when none does.</summary>
    public static Freeze? ActiveFreeze(EnvironmentConfig environment, DateTimeOffset instant)
    {
        var localDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, environment.TimeZone).DateTime);
        return environment.Freezes.FirstOrDefault(f => f.From <= localDay && localDay <= f.To);
    }
}
