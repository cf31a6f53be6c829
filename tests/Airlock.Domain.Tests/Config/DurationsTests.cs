using Airlock.Domain.Config;

namespace Airlock.Domain.Tests.Config;

public class DurationsTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("4h", 14_400)]
    [InlineData("1h30m", 5_400)]
    [InlineData("2d", 172_800)]
    [InlineData("1d2h3m4s", 93_784)]
    [InlineData("0s", 0)]
    [InlineData("120s", 120)]
    public void Accepts_unit_forms(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var duration, out var reason), reason);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("1h1h")]
    [InlineData("h")]
    [InlineData("1H")]
    [InlineData("PT1H")]
    [InlineData("01:00:00")]
    public void Rejects_other_forms_with_a_reason(string text)
    {
        Assert.False(Durations.TryParse(text, out _, out var reason));
        Assert.NotEmpty(reason);
    }

    [Theory]
    [InlineData("1h30m")]
    [InlineData("2d")]
    [InlineData("45s")]
    [InlineData("1d1s")]
    public void Format_round_trips(string text)
    {
        Assert.True(Durations.TryParse(text, out var duration, out _));
        Assert.Equal(text, Durations.Format(duration));
    }
}
