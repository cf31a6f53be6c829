using Airlock.Testing;

namespace Airlock.Domain.Tests.Failures;

/// <summary>Reads the verbatim error examples of ../shared/fixtures/error-messages.md.</summary>
public static class ErrorFixtures
{
    public static string Example(int number)
    {
        var lines = File.ReadAllLines(RepoPaths.Fixture("error-messages.md"));
        var heading = Array.FindIndex(lines, l => l == $"### Example {number}" || l.StartsWith($"### Example {number}:", StringComparison.Ordinal));
        Assert.True(heading >= 0, $"no Example {number}");
        var open = Array.FindIndex(lines, heading, l => l.StartsWith("```", StringComparison.Ordinal));
        var close = Array.FindIndex(lines, open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        return string.Join('\n', lines[(open + 1)..close]);
    }
}
