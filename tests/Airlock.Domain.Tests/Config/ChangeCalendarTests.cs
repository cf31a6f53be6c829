using Airlock.Domain.Config;

using Microsoft.Extensions.Time.Testing;

namespace Airlock.Domain.Tests.Config;

public class ChangeCalendarTests
{
    private static EnvironmentConfig Environment(string windowsAndFreezes)
    {
        var result = WorkspaceConfigLoader.Load(
            $"""
            version: 1
            project: p
            environments:
              prod:
            {windowsAndFreezes}
            """,
            "airlock.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Config!.FindEnvironment("prod")!;
    }

    private static readonly EnvironmentConfig Berlin = Environment(
        """
            windows:
              timezone: Europe/Berlin
              allow:
                - { days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00" }
            freezes:
              - { name: year-end, from: 2026-12-20, to: 2027-01-03 }
        """);

    private static FakeTimeProvider ClockAt(string utc) => new(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    // Winter (CET, UTC+1): 08:00Z is 09:00 local, the first open minute; 16:00Z is 17:00, closed.
    [InlineData("2026-03-27T07:59:00Z", false)]
    [InlineData("2026-03-27T08:00:00Z", true)]
    [InlineData("2026-03-27T15:59:00Z", true)]
    [InlineData("2026-03-27T16:00:00Z", false)]
    // Summer (CEST, UTC+2) after the switch on Sunday 2026-03-29: 07:00Z is already 09:00 local.
    [InlineData("2026-03-30T07:00:00Z", true)]
    [InlineData("2026-03-30T06:59:00Z", false)]
    [InlineData("2026-03-30T15:00:00Z", false)]
    [InlineData("2026-03-30T14:59:00Z", true)]
    // Saturday and Sunday are outside whatever the hour.
    [InlineData("2026-03-28T10:00:00Z", false)]
    [InlineData("2026-03-29T10:00:00Z", false)]
    public void Window_is_read_in_the_environment_time_zone_across_daylight_saving(string utc, bool open)
    {
        Assert.Equal(open, ChangeCalendar.IsInsideWindow(Berlin, ClockAt(utc)));
    }

    [Fact]
    public void Day_of_week_is_the_local_day_not_the_utc_day()
    {
        var tokyo = Environment(
            """
                windows:
                  timezone: Asia/Tokyo
                  allow:
                    - { days: [mon], from: "06:00", to: "10:00" }
            """);

        // Sunday 22:00 UTC is Monday 07:00 in Tokyo.
        Assert.True(ChangeCalendar.IsInsideWindow(tokyo, ClockAt("2026-06-07T22:00:00Z")));
        // Monday 22:00 UTC is Tuesday in Tokyo.
        Assert.False(ChangeCalendar.IsInsideWindow(tokyo, ClockAt("2026-06-08T22:00:00Z")));
    }

    [Fact]
    public void A_window_may_end_at_midnight()
    {
        var lateShift = Environment(
            """
                windows:
                  timezone: America/New_York
                  allow:
                    - { days: [sat], from: "20:00", to: "24:00" }
            """);

        // Saturday 23:59 EDT = Sunday 03:59Z.
        Assert.True(ChangeCalendar.IsInsideWindow(lateShift, ClockAt("2026-07-12T03:59:00Z")));
        // Sunday 00:00 EDT = Sunday 04:00Z.
        Assert.False(ChangeCalendar.IsInsideWindow(lateShift, ClockAt("2026-07-12T04:00:00Z")));
    }

    [Fact]
    public void No_windows_means_always_open()
    {
        var open = Environment("    plan: { mode: saved }");

        Assert.True(ChangeCalendar.IsInsideWindow(open, ClockAt("2026-03-28T03:00:00Z")));
    }

    [Theory]
    // The first frozen day starts at local midnight: 2026-12-19T23:00Z is 00:00 on the 20th in Berlin.
    [InlineData("2026-12-19T22:59:00Z", null)]
    [InlineData("2026-12-19T23:00:00Z", "year-end")]
    [InlineData("2027-01-01T12:00:00Z", "year-end")]
    // The last day is inclusive: until 23:59 local on 2027-01-03 (22:59Z).
    [InlineData("2027-01-03T22:59:00Z", "year-end")]
    [InlineData("2027-01-03T23:00:00Z", null)]
    public void Freezes_are_whole_local_days_inclusive(string utc, string? freeze)
    {
        Assert.Equal(freeze, ChangeCalendar.ActiveFreeze(Berlin, ClockAt(utc))?.Name);
    }

    [Fact]
    public void Freezes_without_windows_are_read_in_utc()
    {
        var utcOnly = Environment(
            """
                freezes:
                  - { name: launch, from: 2026-05-01, to: 2026-05-01 }
            """);

        Assert.Null(ChangeCalendar.ActiveFreeze(utcOnly, ClockAt("2026-04-30T23:59:59Z")));
        Assert.Equal("launch", ChangeCalendar.ActiveFreeze(utcOnly, ClockAt("2026-05-01T00:00:00Z"))?.Name);
        Assert.Equal("launch", ChangeCalendar.ActiveFreeze(utcOnly, ClockAt("2026-05-01T23:59:59Z"))?.Name);
        Assert.Null(ChangeCalendar.ActiveFreeze(utcOnly, ClockAt("2026-05-02T00:00:00Z")));
    }

    [Fact]
    public void Advancing_a_fake_clock_moves_into_and_out_of_the_window()
    {
        var clock = ClockAt("2026-10-23T06:30:00Z"); // Friday 08:30 CEST
        Assert.False(ChangeCalendar.IsInsideWindow(Berlin, clock));

        clock.Advance(TimeSpan.FromMinutes(30)); // 09:00 CEST
        Assert.True(ChangeCalendar.IsInsideWindow(Berlin, clock));

        clock.Advance(TimeSpan.FromDays(3)); // Monday 2026-10-26 08:00 CET: the clocks went back on Sunday
        Assert.False(ChangeCalendar.IsInsideWindow(Berlin, clock));

        clock.Advance(TimeSpan.FromHours(1)); // 09:00 CET
        Assert.True(ChangeCalendar.IsInsideWindow(Berlin, clock));
    }
}
