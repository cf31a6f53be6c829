using System.Collections.Immutable;
using System.Globalization;

using YamlDotNet.RepresentationModel;

using static Airlock.Domain.Config.ConfigDiagnosticCodes;
using static Airlock.Domain.Config.YamlNodes;

namespace Airlock.Domain.Config;

/// <summary>Maps the checked YAML tree to the model and checks cross-references.</summary>
internal sealed class ModelBuilder(Diagnostics diagnostics, YamlMappingNode root)
{
    // Reading every zone of the system database is slow; the list only feeds "did you mean".
    private static readonly Lazy<string[]> KnownTimeZoneIds = new(() => [.. TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id)]);

    private readonly HashSet<string> _teams = NamesOf(Child(root, "teams"));
    private readonly HashSet<string> _environments = NamesOf(Child(root, "environments"));
    private readonly HashSet<string> _stacks = NamesOf(Child(root, "stacks"));
    private readonly HashSet<string> _classes = NamesOf(Child(root, "resource_classes"));

    public WorkspaceConfig Build()
    {
        var defaults = BuildDefaults(Mapping(root, "defaults"));
        var teams = Entries(Child(root, "teams")).Select(e => new TeamConfig(e.Key.Value!, TextListOf(e.Value))).ToImmutableArray();
        var classes = BuildResourceClasses();
        var environments = Entries(Child(root, "environments")).Select(e => BuildEnvironment(e.Key.Value!, e.Value as YamlMappingNode)).ToImmutableArray();
        CheckPromotionCycles();
        var stacks = Entries(Child(root, "stacks")).Select(e => BuildStack(e.Key.Value!, e.Value as YamlMappingNode, defaults)).ToImmutableArray();
        CheckDependencyCycles();
        var applications = Entries(Child(root, "applications")).Select(e => BuildApplication(e.Key.Value!, e.Value as YamlMappingNode)).ToImmutableArray();
        var queues = Entries(Child(root, "queues")).Select(e => BuildQueue(e.Key.Value!, e.Value as YamlMappingNode)).ToImmutableArray();
        var policies = new PolicyConfig(Text(Mapping(root, "policies"), "custom"));
        var locks = BuildLocks(Mapping(root, "locks"));
        var github = Mapping(root, "github") is { } githubNode ? BuildGitHub(githubNode) : null;
        return new WorkspaceConfig(Int(root, "version", 0), Text(root, "project") ?? "", defaults, teams, environments, classes, stacks, applications, queues, policies, locks, github);
    }

    private GitHubConfig BuildGitHub(YamlMappingNode node)
    {
        foreach (var environment in ScalarItems(node, "environments"))
        {
            CheckReference(environment, _environments, UnknownEnvironment, "environment", "github.environments");
        }

        if (Scalar(node, "repository") is { } repository && repository.Value is { } name && name.Split('/') is not [{ Length: > 0 }, { Length: > 0 }])
        {
            diagnostics.Add(repository, BadValue, $"github.repository must be owner/name, not '{name}'");
        }

        if (Scalar(node, "api_url") is { } api && !(Uri.TryCreate(api.Value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
        {
            diagnostics.Add(api, BadValue, $"github.api_url must be an http(s) URL, not '{api.Value}'");
        }

        if (Scalar(node, "user_pattern") is { } pattern && pattern.Value?.Contains("{login}", StringComparison.Ordinal) != true)
        {
            diagnostics.Add(pattern, BadValue, "github.user_pattern must contain {login}, or every unlisted login would act as one person");
        }

        var users = Entries(Child(node, "users"))
            .Where(e => e.Value is YamlScalarNode { Value: { Length: > 0 } })
            .GroupBy(e => e.Key.Value!, StringComparer.OrdinalIgnoreCase)
            .ToImmutableDictionary(g => g.Key, g => ((YamlScalarNode)g.First().Value).Value!, StringComparer.OrdinalIgnoreCase);
        var requirements = Child(node, "apply_requirements") is YamlSequenceNode
            ? [.. TextList(node, "apply_requirements").Distinct(StringComparer.Ordinal).Select(r => r switch
            {
                "mergeable" => GitHubApplyRequirement.Mergeable,
                "up_to_date" => GitHubApplyRequirement.UpToDate,
                _ => GitHubApplyRequirement.Approved,
            })]
            : ImmutableArray.Create(GitHubApplyRequirement.Approved, GitHubApplyRequirement.Mergeable, GitHubApplyRequirement.UpToDate);
        return new GitHubConfig(
            (Text(node, "api_url") ?? GitHubConfig.DefaultApiUrl).TrimEnd('/'),
            Text(node, "repository") ?? "",
            Text(node, "remote") ?? "origin",
            Text(node, "token_env") ?? "AIRLOCK_GITHUB_TOKEN",
            Text(node, "webhook_secret_env") ?? "AIRLOCK_GITHUB_WEBHOOK_SECRET",
            Text(node, "dashboard_url")?.TrimEnd('/'),
            TextList(node, "environments"),
            users,
            Text(node, "user_pattern"),
            requirements);
    }

    private LocksConfig BuildLocks(YamlMappingNode? node)
    {
        foreach (var admin in ScalarItems(node, "admins"))
        {
            CheckReference(admin, _teams, UnknownTeam, "team", "locks.admins");
        }

        return new LocksConfig(TextList(node, "admins"));
    }

    private static HashSet<string> NamesOf(YamlNode? node) => [.. Entries(node).Select(e => e.Key.Value!)];

    private static ImmutableArray<string> TextListOf(YamlNode node) =>
        node is YamlSequenceNode sequence ? [.. sequence.Children.OfType<YamlScalarNode>().Where(s => !IsNull(s)).Select(s => s.Value!)] : [];

    private static EngineKind ParseEngine(string? name) => name switch
    {
        "terraform" => EngineKind.Terraform,
        "pulumi" => EngineKind.Pulumi,
        "command" => EngineKind.Command,
        _ => EngineKind.OpenTofu,
    };

    private static WorkspaceDefaults BuildDefaults(YamlMappingNode? node)
    {
        var tools = Entries(Child(node, "tools"))
            .Where(e => ConfigSchema.EngineNames.Contains(e.Key.Value!))
            .ToImmutableDictionary(
                e => ParseEngine(e.Key.Value),
                e => new ToolPin(Text(e.Value as YamlMappingNode, "binary"), Text(e.Value as YamlMappingNode, "version")));
        return new WorkspaceDefaults(ParseEngine(Text(node, "engine")), Int(node, "parallelism", 4), tools);
    }

    private ImmutableArray<ResourceClassConfig> BuildResourceClasses()
    {
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        var classes = ImmutableArray.CreateBuilder<ResourceClassConfig>();
        foreach (var (key, value) in Entries(Child(root, "resource_classes")))
        {
            if (value is YamlSequenceNode sequence)
            {
                foreach (var type in sequence.Children.OfType<YamlScalarNode>().Where(s => !IsNull(s)))
                {
                    if (!owner.TryAdd(type.Value!, key.Value!) && owner[type.Value!] != key.Value)
                    {
                        diagnostics.Add(type, BadValue, $"resource type '{type.Value}' is in both class '{owner[type.Value!]}' and class '{key.Value}'; a type belongs to one class");
                    }
                }
            }

            classes.Add(new ResourceClassConfig(key.Value!, TextListOf(value)));
        }

        return classes.ToImmutable();
    }

    private void CheckReference(YamlScalarNode node, HashSet<string> known, string code, string kind, string context)
    {
        if (!known.Contains(node.Value!))
        {
            diagnostics.Add(node, code, $"{context} names {kind} '{node.Value}', which does not exist{Suggestions.Hint(node.Value!, known.Order(StringComparer.Ordinal))}");
        }
    }

    private EnvironmentConfig BuildEnvironment(string name, YamlMappingNode? node)
    {
        var approvalsNode = Mapping(node, "approvals");
        foreach (var role in ScalarItems(approvalsNode, "roles"))
        {
            CheckReference(role, _teams, UnknownTeam, "team", $"environment '{name}' approvals.roles");
        }

        var approvals = new ApprovalPolicy(Int(approvalsNode, "required", 0), TextList(approvalsNode, "roles"), Bool(approvalsNode, "separation_of_duties", false));
        CheckApprovalsAreReachable(name, approvalsNode, approvals);

        var planNode = Mapping(node, "plan");
        var plan = new PlanPolicy(
            Text(planNode, "mode") == "replan" ? PlanMode.Replan : PlanMode.Saved,
            Duration(planNode, "max_age", TimeSpan.FromHours(1)),
            Bool(planNode, "require_base_current", false),
            Bool(planNode, "require_no_material_drift", false));

        var applyNode = Mapping(node, "apply");
        var cancellation = new CancellationPolicy(CancellationPolicy.Anyone, null);
        if (Scalar(applyNode, "cancellation") is { Value: { } who } whoNode)
        {
            cancellation = who switch
            {
                CancellationPolicy.Anyone or CancellationPolicy.Restricted => new CancellationPolicy(who, null),
                _ => new CancellationPolicy(CancellationPolicy.TeamKind, who),
            };
            if (cancellation.Team is not null && !_teams.Contains(who))
            {
                diagnostics.Add(whoNode, UnknownTeam, $"environment '{name}' apply.cancellation must be anyone, restricted or a team; team '{who}' does not exist{Suggestions.Hint(who, _teams.Append(CancellationPolicy.Anyone).Append(CancellationPolicy.Restricted))}");
            }
        }

        var apply = new ApplyPolicy(Duration(applyNode, "timeout", TimeSpan.FromHours(1)), cancellation, Duration(applyNode, "graceful_shutdown", TimeSpan.FromSeconds(30)));

        var retryNode = Mapping(node, "retry");
        var retry = new RetryPolicy(Int(retryNode, "max_attempts", 1), Duration(retryNode, "backoff", TimeSpan.FromSeconds(10)), Duration(retryNode, "max_backoff", TimeSpan.FromMinutes(5)), TextList(retryNode, "retryable"));

        PromotionPolicy? promotion = null;
        if (Mapping(node, "promotion") is { } promotionNode)
        {
            var next = Scalar(promotionNode, "next");
            if (next is not null)
            {
                CheckReference(next, _environments, UnknownEnvironment, "environment", $"environment '{name}' promotion.next");
            }

            promotion = new PromotionPolicy(next?.Value, Duration(promotionNode, "soak", TimeSpan.Zero), BuildChecks(promotionNode, "health"));
        }

        var destroyNode = Mapping(node, "destroy");
        foreach (var protectedClass in ScalarItems(destroyNode, "protected_classes"))
        {
            CheckReference(protectedClass, _classes, UnknownResourceClass, "resource class", $"environment '{name}' destroy.protected_classes");
        }

        var destroy = new DestroyPolicy(Text(destroyNode, "default") == "deny" ? DestroyDefault.Deny : DestroyDefault.Allow, TextList(destroyNode, "protected_classes"));

        var windows = BuildWindows(name, Mapping(node, "windows"));
        var freezes = BuildFreezes(name, node);
        var waves = BuildWaves(name, node);

        return new EnvironmentConfig(name, approvals, plan, apply, retry, promotion, destroy, windows, freezes, waves, Text(node, "account"), Text(node, "region"), Text(node, "identity"));
    }

    // A count no set of approvers can reach blocks every change; say so now rather than at apply time.
    private void CheckApprovalsAreReachable(string environment, YamlMappingNode? node, ApprovalPolicy approvals)
    {
        if (approvals.Roles.IsEmpty || approvals.Roles.Any(r => !_teams.Contains(r)) || Scalar(node, "required") is not { } requiredNode)
        {
            return;
        }

        var people = approvals.Roles
            .SelectMany(role => Entries(Child(root, "teams")).Where(t => t.Key.Value == role).SelectMany(t => TextListOf(t.Value)))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Count();
        if (approvals.Required > people)
        {
            diagnostics.Add(requiredNode, BadValue, $"environment '{environment}' needs {approvals.Required} approvals but teams {string.Join(", ", approvals.Roles)} have only {people} {(people == 1 ? "member" : "members")}");
        }
    }

    private ImmutableArray<Wave> BuildWaves(string environment, YamlMappingNode? node)
    {
        var waves = ImmutableArray.CreateBuilder<Wave>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var regionWave = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in MappingItems(node, "waves"))
        {
            var name = Text(item, "name") ?? "";
            if (Scalar(item, "name") is { } nameNode && !names.Add(name))
            {
                diagnostics.Add(nameNode, BadValue, $"wave '{name}' appears twice in environment '{environment}'");
            }

            foreach (var region in ScalarItems(item, "regions"))
            {
                if (!regionWave.TryAdd(region.Value!, name))
                {
                    diagnostics.Add(region, BadValue, $"region '{region.Value}' is in wave '{regionWave[region.Value!]}' and again in wave '{name}' of environment '{environment}'");
                }
            }

            waves.Add(new Wave(name, TextList(item, "regions"), Duration(item, "bake", TimeSpan.Zero), Int(item, "max_parallel", 1)));
        }

        return waves.ToImmutable();
    }

    private ChangeWindows? BuildWindows(string environment, YamlMappingNode? node)
    {
        if (node is null)
        {
            return null;
        }

        var timeZone = TimeZoneInfo.Utc;
        if (Scalar(node, "timezone") is { Value: { } id } idNode)
        {
            if (FindTimeZone(id) is { } found)
            {
                timeZone = found;
            }
            else
            {
                var hint = Suggestions.Hint(id, KnownTimeZoneIds.Value);
                diagnostics.Add(idNode, BadTimeZone, $"unknown time zone '{id}' in environment '{environment}' windows.timezone: use an IANA id such as Europe/Berlin{hint}");
            }
        }

        var periods = ImmutableArray.CreateBuilder<AllowedPeriod>();
        foreach (var period in MappingItems(node, "allow"))
        {
            var days = ScalarItems(period, "days").Select(d => ParseDay(d.Value!)).OfType<DayOfWeek>().Distinct().ToImmutableArray();
            var from = Scalar(period, "from") is { } f ? SchemaChecker.ParseTimeOfDay(f.Value!) : null;
            var to = Scalar(period, "to") is { } t ? SchemaChecker.ParseTimeOfDay(t.Value!) : null;
            if (from is null || to is null)
            {
                continue; // already reported
            }

            if (from >= to)
            {
                diagnostics.Add(Scalar(period, "from")!, EmptyWindow, $"window in environment '{environment}' starts at {Scalar(period, "from")!.Value}, not before its end {Scalar(period, "to")!.Value}; a window cannot span midnight: split it in two");
                continue;
            }

            periods.Add(new AllowedPeriod(days, from.Value, to.Value));
        }

        return new ChangeWindows(timeZone, periods.ToImmutable());
    }

    private static TimeZoneInfo? FindTimeZone(string id)
    {
        // On Linux the id is a path under /usr/share/zoneinfo: keep it to IANA shape so a
        // directory name ("Europe") or "../x" never reaches the file system lookup.
        if (id.Length == 0 || id.Contains("..", StringComparison.Ordinal) || id.StartsWith('/') || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-' or '+'))
        {
            return null;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or System.Security.SecurityException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static DayOfWeek? ParseDay(string day) => day[..Math.Min(3, day.Length)] switch
    {
        "mon" when ConfigSchema.DayNames.Contains(day) => DayOfWeek.Monday,
        "tue" when ConfigSchema.DayNames.Contains(day) => DayOfWeek.Tuesday,
        "wed" when ConfigSchema.DayNames.Contains(day) => DayOfWeek.Wednesday,
        "thu" when ConfigSchema.DayNames.Contains(day) => DayOfWeek.Thursday,
        "fri" when ConfigSchema.DayNames.Contains(day) => DayOfWeek.Friday,
        "sat" when ConfigSchema.DayNames.Contains(day) => DayOfWeek.Saturday,
        "sun" when ConfigSchema.DayNames.Contains(day) => DayOfWeek.Sunday,
        _ => null,
    };

    private static DateOnly? ParseDate(YamlScalarNode? node) =>
        node is not null && DateOnly.TryParseExact(node.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    private ImmutableArray<Freeze> BuildFreezes(string environment, YamlMappingNode? node)
    {
        var freezes = ImmutableArray.CreateBuilder<Freeze>();
        foreach (var item in MappingItems(node, "freezes"))
        {
            var name = Text(item, "name") ?? "";
            var from = ParseDate(Scalar(item, "from"));
            var to = ParseDate(Scalar(item, "to"));
            if (from is null || to is null)
            {
                continue; // already reported
            }

            if (from > to)
            {
                diagnostics.Add(Scalar(item, "to")!, InvertedFreeze, $"freeze '{name}' in environment '{environment}' ends on {to:yyyy-MM-dd}, before it starts on {from:yyyy-MM-dd}");
                continue;
            }

            foreach (var earlier in freezes.Where(f => f.From <= to && from <= f.To))
            {
                diagnostics.Add(item, OverlappingFreeze, $"freeze '{name}' ({from:yyyy-MM-dd}..{to:yyyy-MM-dd}) overlaps freeze '{earlier.Name}' ({earlier.From:yyyy-MM-dd}..{earlier.To:yyyy-MM-dd}) in environment '{environment}'; merge them");
            }

            freezes.Add(new Freeze(name, from.Value, to.Value, Text(item, "reason")));
        }

        return freezes.ToImmutable();
    }

    private void CheckPromotionCycles()
    {
        var next = new Dictionary<string, YamlScalarNode>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (key, value) in Entries(Child(root, "environments")))
        {
            order.Add(key.Value!);
            if (Scalar(Mapping(value as YamlMappingNode, "promotion"), "next") is { } target && _environments.Contains(target.Value!))
            {
                next[key.Value!] = target;
            }
        }

        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in order)
        {
            var path = new List<string> { start };
            var current = start;
            while (next.TryGetValue(current, out var target))
            {
                current = target.Value!;
                var at = path.IndexOf(current);
                if (at >= 0)
                {
                    var cycle = path[at..];
                    if (reported.Add(string.Join(",", cycle.Order(StringComparer.Ordinal))))
                    {
                        var first = cycle.OrderBy(order.IndexOf).First();
                        var rotated = cycle.SkipWhile(e => e != first).Concat(cycle.TakeWhile(e => e != first)).ToList();
                        diagnostics.Add(next[first], PromotionCycle, $"promotion cycle: {string.Join(" → ", rotated.Append(first))}");
                    }

                    break;
                }

                path.Add(current);
            }
        }
    }

    private StackConfig BuildStack(string name, YamlMappingNode? node, WorkspaceDefaults defaults)
    {
        foreach (var owner in ScalarItems(node, "owners"))
        {
            CheckReference(owner, _teams, UnknownTeam, "team", $"stack '{name}' owners");
        }

        ImmutableArray<string>? environments = null;
        if (Child(node, "environments") is YamlSequenceNode)
        {
            foreach (var env in ScalarItems(node, "environments"))
            {
                if (!_environments.Contains(env.Value!))
                {
                    diagnostics.Add(env, UnknownEnvironment, $"stack '{name}' is enabled in environment '{env.Value}', which does not exist{Suggestions.Hint(env.Value!, _environments)}");
                }
            }

            environments = TextList(node, "environments");
        }

        var dependsOn = ScalarItems(node, "depends_on");
        foreach (var dependency in dependsOn)
        {
            CheckReference(dependency, _stacks, UnknownStack, "stack", $"stack '{name}' depends_on");
        }

        var inputs = ImmutableArray.CreateBuilder<StackInput>();
        foreach (var (key, value) in Entries(Child(node, "inputs")))
        {
            if (value is not YamlScalarNode { Value: { } reference } || IsNull(value))
            {
                continue; // already reported
            }

            var dot = reference.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || dot == reference.Length - 1)
            {
                diagnostics.Add(value, BadValue, $"input '{key.Value}' of stack '{name}' must be stack.output, got '{reference}'");
                continue;
            }

            var fromStack = reference[..dot];
            if (!_stacks.Contains(fromStack))
            {
                diagnostics.Add(value, UnknownStack, $"input '{key.Value}' of stack '{name}' reads stack '{fromStack}', which does not exist{Suggestions.Hint(fromStack, _stacks)}");
            }
            else if (!dependsOn.Any(d => d.Value == fromStack))
            {
                diagnostics.Add(value, BadValue, $"input '{key.Value}' of stack '{name}' reads stack '{fromStack}', which is not in its depends_on (it must be applied first)");
            }

            inputs.Add(new StackInput(key.Value!, fromStack, reference[(dot + 1)..]));
        }

        EngineKind? engine = Text(node, "engine") is { } engineName ? ParseEngine(engineName) : null;
        var commandNode = Mapping(node, "command");
        CommandEngineConfig? command = null;
        if (commandNode is not null)
        {
            command = new CommandEngineConfig(Text(commandNode, "plan") ?? "", Text(commandNode, "apply") ?? "", Text(commandNode, "state_serial"), Text(commandNode, "outputs"));
        }

        if ((engine ?? defaults.Engine) == EngineKind.Command && Child(node, "command") is null && node is not null)
        {
            diagnostics.Add(node, MissingKey, $"stack '{name}' uses the command engine but has no 'command' block (plan and apply commands)");
        }
        else if ((engine ?? defaults.Engine) != EngineKind.Command && commandNode is not null)
        {
            diagnostics.Add(commandNode, BadValue, $"stack '{name}' has a 'command' block but its engine is {Text(node, "engine") ?? Text(Mapping(root, "defaults"), "engine") ?? "opentofu"}; set engine: command");
        }

        return new StackConfig(
            name,
            Text(node, "path") ?? "",
            engine,
            TextList(node, "owners"),
            environments,
            [.. dependsOn.Select(d => d.Value!)],
            inputs.ToImmutable(),
            TextList(node, "locks"),
            Text(node, "identity"),
            BuildChecks(node, "verify"),
            command,
            Text(node, "account"),
            Text(node, "region"));
    }

    private void CheckDependencyCycles()
    {
        var edges = new Dictionary<string, List<YamlScalarNode>>(StringComparer.Ordinal);
        foreach (var (key, value) in Entries(Child(root, "stacks")))
        {
            edges[key.Value!] = [.. ScalarItems(value as YamlMappingNode, "depends_on").Where(d => _stacks.Contains(d.Value!))];
        }

        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the path, 2 = done
        var path = new List<string>();

        void Visit(string stack)
        {
            state[stack] = 1;
            path.Add(stack);
            foreach (var dependency in edges.GetValueOrDefault(stack) ?? [])
            {
                var target = dependency.Value!;
                if (state.GetValueOrDefault(target) == 1)
                {
                    var cycle = path[path.IndexOf(target)..].Append(target);
                    diagnostics.Add(dependency, DependencyCycle, $"dependency cycle: {string.Join(" → ", cycle)}");
                }
                else if (state.GetValueOrDefault(target) == 0)
                {
                    Visit(target);
                }
            }

            path.RemoveAt(path.Count - 1);
            state[stack] = 2;
        }

        foreach (var stack in edges.Keys)
        {
            if (state.GetValueOrDefault(stack) == 0)
            {
                Visit(stack);
            }
        }
    }

    private static ImmutableArray<CheckConfig> BuildChecks(YamlMappingNode? node, string key)
    {
        var checks = ImmutableArray.CreateBuilder<CheckConfig>();
        foreach (var item in MappingItems(node, key))
        {
            if (item.Children.Count != 1)
            {
                continue; // already reported
            }

            if (Mapping(item, "http") is { } http)
            {
                checks.Add(new HttpCheck(Text(http, "url") ?? "", Int(http, "expect", 200), Int(http, "retries", 0), Duration(http, "interval", TimeSpan.FromSeconds(10)), Duration(http, "timeout", TimeSpan.FromSeconds(10)), Text(http, "body_contains"), Duration(http, "start_period", TimeSpan.Zero)));
            }
            else if (Mapping(item, "tcp") is { } tcp)
            {
                checks.Add(new TcpCheck(Text(tcp, "host") ?? "", Int(tcp, "port", 0), Duration(tcp, "timeout", TimeSpan.FromSeconds(5)), Int(tcp, "retries", 0), Duration(tcp, "interval", TimeSpan.FromSeconds(10)), Duration(tcp, "start_period", TimeSpan.Zero)));
            }
            else if (Mapping(item, "command") is { } command)
            {
                checks.Add(new CommandCheck(Text(command, "run") ?? "", Duration(command, "timeout", TimeSpan.FromMinutes(5)), Int(command, "retries", 0), Duration(command, "interval", TimeSpan.FromSeconds(10))));
            }
            else if (Child(item, "drift") is not null)
            {
                checks.Add(new DriftCheck());
            }
        }

        return checks.ToImmutable();
    }

    private ApplicationConfig BuildApplication(string name, YamlMappingNode? node)
    {
        foreach (var dependency in ScalarItems(node, "depends_on"))
        {
            CheckReference(dependency, _stacks, UnknownStack, "stack", $"application '{name}' depends_on");
        }

        var versionNode = Mapping(node, "version");
        var version = versionNode is null ? null : new VersionSource(Text(versionNode, "from") ?? "", Text(versionNode, "pattern"));

        var strategyNode = Mapping(node, "strategy");
        var kind = Text(strategyNode, "kind") switch
        {
            "canary" => DeploymentStrategyKind.Canary,
            "blue-green" => DeploymentStrategyKind.BlueGreen,
            _ => DeploymentStrategyKind.Direct,
        };
        var stepNodes = ScalarItems(strategyNode, "steps");
        var steps = stepNodes.Select(s => int.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).ToImmutableArray();
        for (var i = 1; i < steps.Length; i++)
        {
            if (steps[i] <= steps[i - 1] && steps[i] > 0)
            {
                diagnostics.Add(stepNodes[i], BadValue, $"canary steps of application '{name}' must rise: {steps[i]} follows {steps[i - 1]}");
            }
        }

        var switchCommand = Text(strategyNode, "switch");
        if (kind == DeploymentStrategyKind.BlueGreen && switchCommand is null && strategyNode is not null)
        {
            diagnostics.Add((YamlNode?)Scalar(strategyNode, "kind") ?? strategyNode, MissingKey, $"application '{name}' uses blue-green but has no strategy.switch command (it moves traffic to the new colour)");
        }
        else if (kind != DeploymentStrategyKind.BlueGreen && Scalar(strategyNode, "switch") is { } switchNode)
        {
            diagnostics.Add(switchNode, BadValue, $"application '{name}' sets strategy.switch, which only blue-green uses; set kind: blue-green or remove it");
        }

        var strategy = new DeploymentStrategy(kind, steps, Duration(strategyNode, "pause", TimeSpan.Zero)) { Switch = switchCommand };
        return new ApplicationConfig(name, TextList(node, "depends_on"), version, Text(node, "build"), Text(node, "test"), Text(node, "deploy") ?? "", Text(node, "smoke"), Text(node, "rollback"), strategy, BuildChecks(node, "health"));
    }

    private QueueConfig BuildQueue(string name, YamlMappingNode? node)
    {
        var match = Mapping(node, "match");
        if (Scalar(match, "environment") is { } env)
        {
            CheckReference(env, _environments, UnknownEnvironment, "environment", $"queue '{name}' match.environment");
        }

        foreach (var stack in ScalarItems(match, "stacks"))
        {
            CheckReference(stack, _stacks, UnknownStack, "stack", $"queue '{name}' match.stacks");
        }

        ImmutableArray<string>? stacks = Child(match, "stacks") is YamlSequenceNode ? TextList(match, "stacks") : null;
        var priorities = Child(node, "priority_classes") is YamlSequenceNode ? TextList(node, "priority_classes") : ["standard"];
        var stale = Text(node, "stale_plan") == "fail" ? StalePlanAction.Fail : StalePlanAction.Replan;
        return new QueueConfig(name, Text(match, "environment"), stacks, Int(node, "concurrency", 1), Text(node, "key"), priorities, stale);
    }
}
