using Airlock.Domain.Config;
using Airlock.Testing;

namespace Airlock.Domain.Tests.Config;

/// <summary>Damaged files must give diagnostics, never exceptions.</summary>
public class LoaderRobustnessTests
{
    private static readonly string Example = File.ReadAllText(Path.Combine(RepoPaths.Shared, "examples", "airlock.yaml"));

    /// <summary>Cut points: each line's start, a quarter, the middle and its end (every offset would take too long for a unit test).</summary>
    public static TheoryData<int> CutPoints()
    {
        var points = new SortedSet<int>();
        var start = 0;
        foreach (var line in Example.Split('\n'))
        {
            foreach (var offset in new[] { 0, line.Length / 4, line.Length / 2, line.Length })
            {
                points.Add(start + offset);
            }

            start += line.Length + 1;
        }

        points.RemoveWhere(p => p > Example.Length);
        return [.. points];
    }

    [Fact]
    public void Truncated_files_load_or_report_without_throwing()
    {
        var invalid = 0;
        foreach (var length in CutPoints())
        {
            var result = WorkspaceConfigLoader.Load(Example[..length], "airlock.yaml");
            Assert.True(result.IsValid || !result.Diagnostics.IsEmpty, $"no verdict at length {length}");
            Assert.All(result.Diagnostics, d => Assert.True(d.Line >= 1 && d.Column >= 1, d.ToString()));
            invalid += result.IsValid ? 0 : 1;
        }

        Assert.True(invalid > 100, $"only {invalid} truncations were invalid");
    }

    [Fact]
    public void Removing_any_one_line_of_the_example_loads_or_reports_without_throwing()
    {
        var lines = Example.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var damaged = string.Join('\n', lines.Where((_, j) => j != i));
            var result = WorkspaceConfigLoader.Load(damaged, "airlock.yaml");
            Assert.True(result.IsValid || !result.Diagnostics.IsEmpty, $"no verdict without line {i + 1}");
        }
    }

    [Fact]
    public void Replacing_any_value_with_a_list_or_a_mapping_is_reported_not_thrown()
    {
        var lines = Example.Split('\n');
        foreach (var replacement in new[] { "[x, y]", "{ a: 1 }", "", "~" })
        {
            for (var i = 0; i < lines.Length; i++)
            {
                var colon = lines[i].IndexOf(": ", StringComparison.Ordinal);
                if (colon < 0 || lines[i].TrimStart().StartsWith('#'))
                {
                    continue;
                }

                var damaged = string.Join('\n', lines.Select((l, j) => j == i ? l[..(colon + 2)] + replacement : l));
                var result = WorkspaceConfigLoader.Load(damaged, "airlock.yaml");
                Assert.True(result.IsValid || !result.Diagnostics.IsEmpty, $"no verdict with line {i + 1} set to {replacement}");
            }
        }
    }
}
