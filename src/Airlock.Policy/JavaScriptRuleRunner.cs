using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Airlock.Domain.Policy;
using Jint;
using Jint.Runtime;

namespace Airlock.Policy;

/// <summary>
/// Evaluates custom rules in a Jint sandbox. The script sees only the JSON input it is given:
/// no CLR types, no file or network API, no eval/Function, and the clock reads the input's
/// evaluation time rather than the host's, so a rule gives the same answer at plan and apply
/// time for the same input. Time, memory, recursion and statement limits stop runaway rules.
/// </summary>
public sealed class JavaScriptRuleRunner(SandboxLimits limits)
{
    private const string Invoke = """
        (function () {
          if (typeof evaluate !== 'function') { return JSON.stringify({ __airlock_error: 'does not define function evaluate(input)' }); }
          var r = evaluate(JSON.parse(__airlock_input));
          return JSON.stringify(r === undefined ? null : r);
        })()
        """;

    /// <summary>A runner with the default limits.</summary>
    public JavaScriptRuleRunner()
        : this(SandboxLimits.Default)
    {
    }

    /// <summary>
    /// Runs <paramref name="rule"/> against <paramref name="input"/>. Never throws for a faulty
    /// rule: a rule that cannot be evaluated fails, with the reason as its message.
    /// </summary>
    public RuleResult Evaluate(CustomRule rule, JsonNode input, DateTimeOffset evaluationTime, CancellationToken cancellationToken = default)
    {
        try
        {
            using var engine = new Engine(options =>
            {
                options.Strict();
                options.DisableStringCompilation();
                options.LimitMemory(limits.MemoryBytes);
                options.TimeoutInterval(limits.Timeout);
                options.LimitRecursion(limits.MaxRecursion);
                options.MaxStatements(limits.MaxStatements);
                options.CancellationToken(cancellationToken);
                options.TimeSystem = new FixedTimeSystem(evaluationTime);
            });
            // Parse separately so syntax errors come back with their exact position.
            _ = new Acornima.Parser().ParseScript(rule.Source, rule.SourcePath, strict: true);
            engine.Execute(rule.Source, rule.SourcePath);
            engine.SetValue("__airlock_input", input.ToJsonString());
            var returned = engine.Evaluate(Invoke).AsString();
            return Interpret(rule.Id, returned);
        }
        catch (Acornima.ParseErrorException e)
        {
            return Failed(rule, $"syntax error at {rule.SourcePath}:{e.LineNumber}:{e.Column}: {e.Description}");
        }
        catch (JavaScriptException e)
        {
            return Failed(rule, $"threw an error at {rule.SourcePath}:{e.Location.Start.Line}: {e.Error}");
        }
        catch (TimeoutException)
        {
            return Failed(rule, $"stopped by the sandbox: exceeded its {limits.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s time limit");
        }
        catch (MemoryLimitExceededException)
        {
            return Failed(rule, $"stopped by the sandbox: exceeded its {limits.MemoryBytes / (1024 * 1024)} MB memory limit");
        }
        catch (RecursionDepthOverflowException)
        {
            return Failed(rule, $"stopped by the sandbox: exceeded its call depth of {limits.MaxRecursion}");
        }
        catch (StatementsCountOverflowException)
        {
            return Failed(rule, $"stopped by the sandbox: exceeded {limits.MaxStatements} statements");
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (JintException e)
        {
            return Failed(rule, "could not be evaluated: " + e.Message);
        }
    }

    private static RuleResult Failed(CustomRule rule, string reason) => new(rule.Id, RuleOutcome.Fail, $"rule {rule.Id} {reason}");

    // The rule contract: return "pass" | "fail" | "warn", or { result, message } / { result, messages: [] }.
    private static RuleResult Interpret(string id, string returnedJson)
    {
        using var doc = JsonDocument.Parse(returnedJson);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.String)
        {
            return ParseOutcome(id, root.GetString(), message: string.Empty);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return Invalid(id, "expected a string or an object with 'result'");
        }

        if (root.TryGetProperty("__airlock_error", out var error))
        {
            return new RuleResult(id, RuleOutcome.Fail, $"rule {id} {error.GetString()}");
        }

        if (!root.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.String)
        {
            return Invalid(id, "the returned object has no string 'result'");
        }

        var message = string.Empty;
        if (root.TryGetProperty("message", out var single) && single.ValueKind == JsonValueKind.String)
        {
            message = single.GetString()!;
        }
        else if (root.TryGetProperty("messages", out var many) && many.ValueKind == JsonValueKind.Array)
        {
            message = string.Join("; ", many.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString() : m.GetRawText()));
        }

        return ParseOutcome(id, result.GetString(), message);
    }

    private static RuleResult ParseOutcome(string id, string? outcome, string message) => outcome switch
    {
        "pass" => new RuleResult(id, RuleOutcome.Pass, message),
        "fail" => new RuleResult(id, RuleOutcome.Fail, message.Length > 0 ? message : $"rule {id} failed"),
        "warn" => new RuleResult(id, RuleOutcome.Warn, message),
        _ => Invalid(id, $"'result' must be pass, fail or warn, not '{outcome}'"),
    };

    private static RuleResult Invalid(string id, string why) => new(id, RuleOutcome.Fail, $"rule {id} returned an invalid result: {why}");

    /// <summary>Date.now() and new Date() read the evaluation time from the input, never the host clock.</summary>
    private sealed class FixedTimeSystem(DateTimeOffset now) : ITimeSystem
    {
        private readonly DefaultTimeSystem inner = new(TimeZoneInfo.Utc, CultureInfo.InvariantCulture);

        public TimeZoneInfo DefaultTimeZone => TimeZoneInfo.Utc;

        public DateTimeOffset GetUtcNow() => now.ToUniversalTime();

        public TimeSpan GetUtcOffset(long epochMilliseconds) => TimeSpan.Zero;

        public bool TryParse(string date, out long epochMilliseconds) => inner.TryParse(date, out epochMilliseconds);
    }
}
