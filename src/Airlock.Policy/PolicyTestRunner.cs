using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Airlock.Domain.Policy;

namespace Airlock.Policy;

/// <summary>One test case's verdict.</summary>
public sealed record PolicyTestCaseResult(string File, string Rule, string Case, bool Passed, string Detail);

/// <summary>
/// Runs custom rules against example inputs with expected outcomes (like <c>opa test</c>).
/// Test files are <c>*.test.json</c> in the policy folder:
/// <c>{ "rule": "id", "cases": [ { "name", "input", "now"?, "expect": "pass|fail|warn", "message_contains"? } ] }</c>.
/// </summary>
public sealed class PolicyTestRunner(JavaScriptRuleRunner runner)
{
    /// <summary>Runs every test file in <paramref name="directory"/>; throws <see cref="PolicyException"/> for malformed test files.</summary>
    public IReadOnlyList<PolicyTestCaseResult> RunDirectory(string directory)
    {
        var rules = CustomRule.LoadDirectory(directory).ToDictionary(r => r.Id, StringComparer.Ordinal);
        var files = Directory.EnumerateFiles(directory, "*.test.json", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new PolicyException($"no *.test.json files in {directory}");
        }

        var results = new List<PolicyTestCaseResult>();
        foreach (var file in files)
        {
            try
            {
                results.AddRange(RunFile(file, rules));
            }
            catch (InvalidOperationException e)
            {
                // A value of the wrong JSON type, e.g. "expect": 1.
                throw new PolicyException($"{file}: {e.Message}");
            }
        }

        return results;
    }

    private List<PolicyTestCaseResult> RunFile(string file, Dictionary<string, CustomRule> rules)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(file));
        }
        catch (JsonException e)
        {
            throw new PolicyException($"{file}:{e.LineNumber + 1}:{e.BytePositionInLine + 1}: not valid JSON: {FirstSentence(e.Message)}");
        }

        if (root is not JsonObject document)
        {
            throw new PolicyException($"{file}: expected an object with \"rule\" and \"cases\"");
        }

        var ruleId = document["rule"]?.GetValue<string>()
            ?? throw new PolicyException($"{file}: missing \"rule\"");
        if (!rules.TryGetValue(ruleId, out var rule))
        {
            throw new PolicyException($"{file}: no rule '{ruleId}' ({ruleId}.js) in {Path.GetDirectoryName(file)}");
        }

        if (document["cases"] is not JsonArray cases || cases.Count == 0)
        {
            throw new PolicyException($"{file}: \"cases\" must be a non-empty array");
        }

        var results = new List<PolicyTestCaseResult>();
        for (var i = 0; i < cases.Count; i++)
        {
            var testCase = cases[i] as JsonObject ?? throw new PolicyException($"{file}: case {i + 1} is not an object");
            var name = testCase["name"]?.GetValue<string>() ?? $"case {i + 1}";
            var input = testCase["input"] ?? throw new PolicyException($"{file}: case '{name}' has no \"input\"");
            var expect = testCase["expect"]?.GetValue<string>() ?? throw new PolicyException($"{file}: case '{name}' has no \"expect\"");
            if (expect is not ("pass" or "fail" or "warn"))
            {
                throw new PolicyException($"{file}: case '{name}': \"expect\" must be pass, fail or warn");
            }

            var now = ParseNow(file, name, testCase["now"]?.GetValue<string>());
            var actual = runner.Evaluate(rule, input, now);
            var passed = actual.ResultName == expect;
            var detail = passed ? actual.Message : $"expected {expect}, got {actual.ResultName}: {actual.Message}";
            if (passed && testCase["message_contains"]?.GetValue<string>() is { } fragment && !actual.Message.Contains(fragment, StringComparison.Ordinal))
            {
                passed = false;
                detail = $"message \"{actual.Message}\" does not contain \"{fragment}\"";
            }

            results.Add(new PolicyTestCaseResult(file, ruleId, name, passed, detail));
        }

        return results;
    }

    private static DateTimeOffset ParseNow(string file, string name, string? text)
    {
        if (text is null)
        {
            // A fixed default keeps tests reproducible; cases that depend on time say "now".
            return new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var now)
            ? now
            : throw new PolicyException($"{file}: case '{name}': \"now\" is not an ISO 8601 time: {text}");
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..cut];
    }
}
