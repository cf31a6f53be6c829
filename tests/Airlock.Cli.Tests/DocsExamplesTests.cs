using System.Text.RegularExpressions;
using Airlock.Testing;

namespace Airlock.Cli.Tests;

/// <summary>
/// The examples the docs point to keep working: the policy examples pass their own test cases, and every
/// `airlock …` command written in the CI examples and in the docs' code blocks names a real command with
/// options it really has (checked against docs/cli.md, which DocsTests keeps equal to the command definitions).
/// </summary>
public sealed partial class DocsExamplesTests
{
    [Fact]
    public async Task The_policy_examples_pass_their_own_tests()
    {
        var result = await CliRunner.RunAsync("policy", "test", Path.Combine(RepoPaths.RepoRoot, "examples", "policy"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^[1-9][0-9]* passed, 0 failed$", result.Stdout.Trim().Split('\n')[^1]);
        Assert.DoesNotContain("FAIL", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Commands_in_the_ci_examples_and_doc_code_blocks_exist_with_those_options()
    {
        var root = RepoPaths.RepoRoot;
        var reference = CliReference.Parse(File.ReadAllText(Path.Combine(root, "docs", "cli.md")));
        var lines = new List<(string Where, string Text)>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "examples", "ci")))
        {
            // Comments in the YAML and shell examples are prose; only the commands that run are checked.
            lines.AddRange(File.ReadLines(file).Select((text, i) => ($"{Path.GetRelativePath(root, file)}:{i + 1}", Comment().Replace(text, string.Empty))));
        }

        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md").Append(Path.Combine(root, "README.md")))
        {
            lines.AddRange(CodeBlockCommands(File.ReadAllLines(file)).Select(l => ($"{Path.GetRelativePath(root, file)}:{l.Line}", l.Text)));
        }

        var problems = lines.SelectMany(l => reference.Check(l.Text).Select(p => $"{l.Where}: {p}")).ToList();
        var checkedCommands = lines.Sum(l => Invocation().Count(l.Text));

        Assert.True(checkedCommands > 30, $"only {checkedCommands} airlock commands found: is the scan broken?");
        Assert.True(problems.Count == 0, "commands the CLI does not have:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void The_command_checker_catches_an_unknown_command_and_an_unknown_option()
    {
        var reference = CliReference.Parse("""
            ## airlock release resume

            | argument / option | required | description |
            | --- | --- | --- |
            | `RELEASE_ID` | yes | The release. |
            | `--no-wait` |  | Exit 4 at a gate. |
            """);

        Assert.Empty(reference.Check("airlock release resume \"$ID\" --no-wait"));
        Assert.Equal(["airlock release resume: no option --no-wiat"], reference.Check("airlock release resume rel-1 --no-wiat"));
        Assert.Equal(["airlock relase: no such command"], reference.Check("rc=0; airlock relase v1 --no-wait || rc=$?"));
        Assert.Empty(reference.Check("path: /tmp/airlock and airlock.yaml and ci-airlock@example.com"));
    }

    private static IEnumerable<(int Line, string Text)> CodeBlockCommands(string[] lines)
    {
        var inFence = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (inFence && CommandLine().IsMatch(lines[i]))
            {
                yield return (i + 1, lines[i]);
            }
        }
    }

    [GeneratedRegex(@"(^|\s)#.*$")]
    private static partial Regex Comment();

    [GeneratedRegex(@"^\s*(\$ )?airlock [a-z]")]
    private static partial Regex CommandLine();

    // "airlock" as a word (not a path, file name or e-mail), then command words, then the rest of the line.
    [GeneratedRegex(@"(?<![\w./@-])airlock ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)(.*)")]
    internal static partial Regex Invocation();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z-]*")]
    internal static partial Regex Option();

    /// <summary>The commands and options of docs/cli.md.</summary>
    private sealed class CliReference
    {
        private readonly Dictionary<string, HashSet<string>> _options = new(StringComparer.Ordinal);

        public static CliReference Parse(string markdown)
        {
            var reference = new CliReference();
            HashSet<string>? current = null;
            foreach (var line in markdown.Split('\n').Select(l => l.Trim()))
            {
                if (line.StartsWith("## airlock ", StringComparison.Ordinal))
                {
                    current = [];
                    reference._options[line["## airlock ".Length..]] = current;
                }
                else if (current is not null && line.StartsWith("| `--", StringComparison.Ordinal))
                {
                    current.UnionWith(Option().Matches(line.Split('|')[1]).Select(m => m.Value));
                }
            }

            return reference;
        }

        /// <summary>One line per problem with the airlock commands in <paramref name="line"/>.</summary>
        public List<string> Check(string line)
        {
            var problems = new List<string>();
            foreach (Match invocation in Invocation().Matches(line))
            {
                // The longest run of leading words that is a command: the rest are its arguments.
                var words = invocation.Groups[1].Value.Split(' ');
                var command = Enumerable.Range(1, words.Length).Reverse().Select(n => string.Join(' ', words[..n])).FirstOrDefault(_options.ContainsKey);
                if (command is null)
                {
                    problems.Add($"airlock {words[0]}: no such command");
                    continue;
                }

                problems.AddRange(Option().Matches(invocation.Groups[2].Value)
                    .Select(m => m.Value)
                    .Where(o => o != "--help" && !_options[command].Contains(o))
                    .Select(o => $"airlock {command}: no option {o}"));
            }

            return problems;
        }
    }
}
