using Airlock.Domain.Config;

using static Airlock.Domain.Config.ConfigDiagnosticCodes;

namespace Airlock.Domain.Tests.Config;

/// <summary>One test per kind of problem: the message and the exact line and column.</summary>
public class ConfigValidationTests
{
    private static ConfigDiagnostic Only(string yaml)
    {
        var result = WorkspaceConfigLoader.Load(yaml, "airlock.yaml");
        Assert.False(result.IsValid);
        Assert.Null(result.Config);
        return Assert.Single(result.Diagnostics);
    }

    private static void AssertAt(ConfigDiagnostic diagnostic, int line, int column, string code, string message)
    {
        Assert.Equal(code, diagnostic.Code);
        Assert.Equal(message, diagnostic.Message);
        Assert.Equal((line, column), (diagnostic.Line, diagnostic.Column));
        Assert.Equal($"airlock.yaml:{line}:{column}: error: {message}", diagnostic.ToString());
    }

    [Fact]
    public void Unknown_key_suggests_the_closest_known_key()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              dev:
                aprovals: { required: 1 }
            """);

        AssertAt(d, 5, 5, UnknownKey, "unknown key 'aprovals' in 'environments.dev'; did you mean 'approvals'?");
    }

    [Fact]
    public void Unknown_top_level_key_with_nothing_close_lists_the_keys()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            zzz: 1
            """);

        Assert.Equal(UnknownKey, d.Code);
        Assert.StartsWith("unknown key 'zzz' at the top level; expected one of: version, project, defaults", d.Message, StringComparison.Ordinal);
        Assert.Equal((4, 1), (d.Line, d.Column));
    }

    [Fact]
    public void Wrong_value_type_names_the_path_and_the_value()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                approvals: { required: two }
            """);

        AssertAt(d, 5, 28, WrongType, "'environments.prod.approvals.required' must be a whole number, got 'two'");
    }

    [Fact]
    public void A_list_where_a_mapping_belongs_is_a_type_error()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: [dev, prod]
            """);

        AssertAt(d, 3, 15, WrongType, "'environments' must be a mapping of names, got a list");
    }

    [Fact]
    public void Unknown_engine_is_an_unknown_value()
    {
        var d = Only(
            """
            version: 1
            project: p
            defaults:
              engine: terraformm
            environments: {}
            """);

        AssertAt(d, 4, 11, UnknownValue, "unknown value 'terraformm' for 'defaults.engine'; did you mean 'terraform'?");
    }

    [Fact]
    public void Unknown_plan_mode_is_an_unknown_value()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              dev: { plan: { mode: fresh } }
            """);

        AssertAt(d, 4, 24, UnknownValue, "unknown value 'fresh' for 'environments.dev.plan.mode'; expected one of: saved, replan");
    }

    [Fact]
    public void Depends_on_an_unknown_stack()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              network: { path: n }
              database: { path: d, depends_on: [netwrok] }
            """);

        AssertAt(d, 6, 37, UnknownStack, "stack 'database' depends_on names stack 'netwrok', which does not exist; did you mean 'network'?");
    }

    [Fact]
    public void Input_from_an_unknown_stack()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              database:
                path: d
                inputs: { vpc_id: netwrk.vpc_id }
            """);

        AssertAt(d, 7, 23, UnknownStack, "input 'vpc_id' of stack 'database' reads stack 'netwrk', which does not exist");
    }

    [Fact]
    public void Input_from_a_stack_that_is_not_a_dependency()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              network: { path: n }
              database: { path: d, inputs: { vpc_id: network.vpc_id } }
            """);

        AssertAt(d, 6, 42, BadValue, "input 'vpc_id' of stack 'database' reads stack 'network', which is not in its depends_on (it must be applied first)");
    }

    [Fact]
    public void Input_that_is_not_stack_dot_output()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              database: { path: d, inputs: { vpc_id: vpc } }
            """);

        AssertAt(d, 5, 42, BadValue, "input 'vpc_id' of stack 'database' must be stack.output, got 'vpc'");
    }

    [Fact]
    public void Dependency_cycle_is_named_in_order()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              network: { path: n, depends_on: [database] }
              database: { path: d, depends_on: [network] }
            """);

        AssertAt(d, 6, 37, DependencyCycle, "dependency cycle: network → database → network");
    }

    [Fact]
    public void Self_dependency_is_a_cycle()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              network: { path: n, depends_on: [network] }
            """);

        AssertAt(d, 5, 36, DependencyCycle, "dependency cycle: network → network");
    }

    [Theory]
    [InlineData("90", "'90' has no unit; add s, m, h or d (e.g. 90s)")]
    [InlineData("1.5h", "fractions are not allowed; write 1h30m instead of 1.5h")]
    [InlineData("5 m", "spaces are not allowed; write e.g. 5m or 1h30m")]
    [InlineData("5minutes", "unknown unit 'minutes'; use s, m, h or d")]
    [InlineData("", "a duration cannot be empty; write e.g. 30s, 5m, 4h, 1h30m or 2d")]
    [InlineData("5ms", "unknown unit 'ms'; use s, m, h or d")]
    [InlineData("30m1h", "units must appear once each, largest first (d, h, m, s)")]
    [InlineData("-5m", "a duration cannot be negative")]
    public void Bad_duration_says_why(string value, string reason)
    {
        var d = Only(
            $"""
            version: 1
            project: p
            environments:
              dev:
                apply: {"{"} timeout: "{value}" {"}"}
            """);

        AssertAt(d, 5, 23, BadDuration, $"bad duration '{value}' for 'environments.dev.apply.timeout': {reason}");
    }

    [Fact]
    public void Bad_time_zone_suggests_an_iana_id()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                windows:
                  timezone: Europe/Berln
                  allow: []
            """);

        AssertAt(d, 6, 17, BadTimeZone, "unknown time zone 'Europe/Berln' in environment 'prod' windows.timezone: use an IANA id such as Europe/Berlin; did you mean 'Europe/Berlin'?");
    }

    [Theory]
    [InlineData("Europe")]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/localtime")]
    [InlineData("Central European Time")]
    public void Time_zone_that_is_not_an_iana_zone_is_rejected_not_thrown(string id)
    {
        var d = Only(
            $$"""
            version: 1
            project: p
            environments:
              prod: { windows: { timezone: "{{id}}", allow: [] } }
            """);

        Assert.Equal((4, 32), (d.Line, d.Column));
        Assert.Equal(BadTimeZone, d.Code);
        Assert.StartsWith($"unknown time zone '{id}' in environment 'prod' windows.timezone: use an IANA id such as Europe/Berlin", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_time_reports_position_and_format()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            environments:
              prod:
                windows:
                  allow:
                    - { days: [mon], from: "09:00", to: "25:00" }
            """,
            "airlock.yaml");

        AssertAt(Assert.Single(result.Diagnostics), 7, 45, BadTime, "'25:00' is not a time of day for 'environments.prod.windows.allow[0].to': use HH:MM from 00:00 to 24:00");
    }

    [Fact]
    public void Bad_day_in_a_window_suggests_the_day()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                windows:
                  allow:
                    - { days: [mon, fridya], from: "09:00", to: "17:00" }
            """);

        AssertAt(d, 7, 25, BadDay, "unknown value 'fridya' for 'environments.prod.windows.allow[0].days[1]'; did you mean 'friday'?");
    }

    [Fact]
    public void Window_that_starts_at_or_after_its_end()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                windows:
                  allow:
                    - { days: [mon], from: "22:00", to: "06:00" }
            """);

        AssertAt(d, 7, 32, EmptyWindow, "window in environment 'prod' starts at 22:00, not before its end 06:00; a window cannot span midnight: split it in two");
    }

    [Fact]
    public void Inverted_freeze()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                freezes:
                  - { name: year-end, from: 2027-01-03, to: 2026-12-20 }
            """);

        AssertAt(d, 6, 49, InvertedFreeze, "freeze 'year-end' in environment 'prod' ends on 2026-12-20, before it starts on 2027-01-03");
    }

    [Fact]
    public void Overlapping_freezes_name_both()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                freezes:
                  - { name: year-end, from: 2026-12-20, to: 2027-01-03 }
                  - { name: launch, from: 2027-01-03, to: 2027-01-05 }
            """);

        AssertAt(d, 7, 9, OverlappingFreeze, "freeze 'launch' (2027-01-03..2027-01-05) overlaps freeze 'year-end' (2026-12-20..2027-01-03) in environment 'prod'; merge them");
    }

    [Fact]
    public void Bad_freeze_date()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                freezes:
                  - { name: x, from: 2026-02-30, to: 2026-03-01 }
            """);

        AssertAt(d, 6, 26, BadDate, "'2026-02-30' is not a date for 'environments.prod.freezes[0].from': use YYYY-MM-DD");
    }

    [Fact]
    public void Stack_enabled_in_an_environment_that_does_not_exist()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              dev: {}
              prod: {}
            stacks:
              network: { path: n, environments: [dev, staging] }
            """);

        AssertAt(d, 7, 43, UnknownEnvironment, "stack 'network' is enabled in environment 'staging', which does not exist");
    }

    [Fact]
    public void Unknown_team_in_owners()
    {
        var d = Only(
            """
            version: 1
            project: p
            teams:
              platform: [alice@example.com]
            environments: {}
            stacks:
              network: { path: n, owners: [platfrom] }
            """);

        AssertAt(d, 7, 32, UnknownTeam, "stack 'network' owners names team 'platfrom', which does not exist; did you mean 'platform'?");
    }

    [Fact]
    public void Unknown_team_in_lock_admins()
    {
        var d = Only(
            """
            version: 1
            project: p
            teams:
              platform: [alice@example.com]
            environments: {}
            locks: { admins: [platfrom] }
            """);

        AssertAt(d, 6, 19, UnknownTeam, "locks.admins names team 'platfrom', which does not exist; did you mean 'platform'?");
    }

    [Fact]
    public void Lock_administrators_are_the_members_of_the_admin_teams()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            teams:
              ops: [bob, erin]
              sre: [erin, frank]
              platform: [alice]
            environments: {}
            locks: { admins: [ops, sre] }
            """,
            "airlock.yaml");

        Assert.True(result.IsValid, string.Join("; ", result.Diagnostics));
        Assert.Equal(["ops", "sre"], result.Config!.Locks.Admins.AsEnumerable());
        Assert.Equal(["bob", "erin", "frank"], result.Config.LockAdministrators().AsEnumerable());
        var none = WorkspaceConfigLoader.Load("version: 1\nproject: p\nenvironments: {}\n", "airlock.yaml");
        Assert.Empty(none.Config!.LockAdministrators());
    }

    [Fact]
    public void Unknown_team_in_approval_roles()
    {
        var d = Only(
            """
            version: 1
            project: p
            teams:
              platform: [alice@example.com]
            environments:
              prod: { approvals: { required: 1, roles: [security] } }
            """);

        AssertAt(d, 6, 45, UnknownTeam, "environment 'prod' approvals.roles names team 'security', which does not exist");
    }

    [Fact]
    public void Unknown_team_in_cancellation()
    {
        var d = Only(
            """
            version: 1
            project: p
            teams:
              platform-oncall: [alice@example.com]
            environments:
              prod: { apply: { cancellation: platform-oncal } }
            """);

        AssertAt(d, 6, 34, UnknownTeam, "environment 'prod' apply.cancellation must be anyone, restricted or a team; team 'platform-oncal' does not exist; did you mean 'platform-oncall'?");
    }

    [Fact]
    public void Promotion_to_an_unknown_environment()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              dev: { promotion: { next: stagе } }
            """);

        // The value above uses a Cyrillic 'е', the kind of typo no eye catches.
        AssertAt(d, 4, 29, UnknownEnvironment, "environment 'dev' promotion.next names environment 'stagе', which does not exist");
    }

    [Fact]
    public void Promotion_cycle_is_named_in_order()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              dev: { promotion: { next: stage } }
              stage: { promotion: { next: prod } }
              prod: { promotion: { next: dev } }
            """);

        AssertAt(d, 4, 29, PromotionCycle, "promotion cycle: dev → stage → prod → dev");
    }

    [Fact]
    public void Unknown_resource_class_in_destroy_guard()
    {
        var d = Only(
            """
            version: 1
            project: p
            resource_classes:
              database: [aws_db_instance]
            environments:
              prod: { destroy: { default: deny, protected_classes: [databse] } }
            """);

        AssertAt(d, 6, 57, UnknownResourceClass, "environment 'prod' destroy.protected_classes names resource class 'databse', which does not exist; did you mean 'database'?");
    }

    [Fact]
    public void Queue_matching_an_unknown_environment_and_stack()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            environments:
              prod: {}
            stacks:
              network: { path: n }
            queues:
              q: { match: { environment: prd, stacks: [netwrk] } }
            """,
            "airlock.yaml");

        Assert.Equal(2, result.Diagnostics.Length);
        AssertAt(result.Diagnostics[0], 8, 30, UnknownEnvironment, "queue 'q' match.environment names environment 'prd', which does not exist; did you mean 'prod'?");
        AssertAt(result.Diagnostics[1], 8, 44, UnknownStack, "queue 'q' match.stacks names stack 'netwrk', which does not exist; did you mean 'network'?");
    }

    [Fact]
    public void Application_depending_on_an_unknown_stack()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            applications:
              web: { deploy: ./deploy.sh, depends_on: [ingres] }
            """);

        AssertAt(d, 5, 44, UnknownStack, "application 'web' depends_on names stack 'ingres', which does not exist");
    }

    [Fact]
    public void Blue_green_without_a_switch_command_is_reported_at_its_kind()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            applications:
              web:
                deploy: ./deploy.sh
                strategy: { kind: blue-green }
            """);

        AssertAt(d, 7, 23, MissingKey, "application 'web' uses blue-green but has no strategy.switch command (it moves traffic to the new colour)");
    }

    [Fact]
    public void A_switch_command_outside_blue_green_is_reported()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            applications:
              web:
                deploy: ./deploy.sh
                strategy: { kind: canary, steps: [50, 100], switch: ./switch.sh }
            """);

        AssertAt(d, 7, 57, BadValue, "application 'web' sets strategy.switch, which only blue-green uses; set kind: blue-green or remove it");
    }

    [Fact]
    public void Blue_green_with_a_switch_command_loads_it()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            environments: {}
            applications:
              web:
                deploy: ./deploy.sh
                strategy: { kind: blue-green, switch: "./switch.sh {color}" }
            """,
            "airlock.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        var strategy = result.Config!.Applications.Single().Strategy;
        Assert.Equal((DeploymentStrategyKind.BlueGreen, "./switch.sh {color}"), (strategy.Kind, strategy.Switch));
    }

    [Fact]
    public void Invalid_yaml_syntax_reports_the_parser_position()
    {
        var d = Only(
            """
            version: 1
            project: "unterminated
            """);

        Assert.Equal(YamlSyntax, d.Code);
        Assert.StartsWith("invalid YAML: ", d.Message, StringComparison.Ordinal);
        Assert.Equal(2, d.Line);
    }

    // YamlDotNet's errors start where the token before the tab began (line 1 here): the tab is what the user must find.
    [Theory]
    [InlineData("version: 1\n\tproject: p\n", 2)]
    [InlineData("version: 1\nproject: p\nenvironments:\n  dev:\n\t  approvals: {}\n", 5)]
    public void A_tab_in_the_indentation_is_reported_on_its_own_line(string yaml, int line)
    {
        var d = Only(yaml);

        Assert.Equal(YamlSyntax, d.Code);
        Assert.Contains("tab", d.Message, StringComparison.Ordinal);
        Assert.Equal((line, 1), (d.Line, d.Column));
    }

    [Fact]
    public void Unterminated_flow_list_is_a_syntax_error_not_a_crash()
    {
        // YamlDotNet throws InvalidOperationException (not YamlException) for this input.
        var d = Only("version: 1\nproject: [x\nenvironments: {}\n");

        Assert.Equal(YamlSyntax, d.Code);
        Assert.Equal((2, 10), (d.Line, d.Column));
    }

    [Fact]
    public void Duplicate_keys_are_all_reported()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            environments:
              dev: {}
              dev: {}
            project: q
            """,
            "airlock.yaml");

        Assert.Equal(2, result.Diagnostics.Length);
        AssertAt(result.Diagnostics[0], 5, 3, DuplicateKey, "duplicate key 'dev': each key may appear once in a mapping");
        AssertAt(result.Diagnostics[1], 6, 1, DuplicateKey, "duplicate key 'project': each key may appear once in a mapping");
    }

    [Fact]
    public void Missing_required_keys_are_reported_at_their_mapping()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            project: p
            environments: {}
            stacks:
              network: { owners: [] }
            """,
            "airlock.yaml");

        Assert.Equal(2, result.Diagnostics.Length);
        AssertAt(result.Diagnostics[0], 1, 1, MissingKey, "the top level is missing the required key 'version'");
        AssertAt(result.Diagnostics[1], 4, 12, MissingKey, "'stacks.network' is missing the required key 'path'");
    }

    [Fact]
    public void Unsupported_version()
    {
        var d = Only(
            """
            version: 2
            project: p
            environments: {}
            """);

        AssertAt(d, 1, 10, BadValue, "'version' must be 1, got 2");
    }

    [Fact]
    public void Command_engine_without_commands()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              migrations: { path: m, engine: command }
            """);

        AssertAt(d, 5, 15, MissingKey, "stack 'migrations' uses the command engine but has no 'command' block (plan and apply commands)");
    }

    [Fact]
    public void Check_with_two_kinds_is_rejected()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              network:
                path: n
                verify:
                  - { drift: {}, tcp: { host: h, port: 22 } }
            """);

        AssertAt(d, 8, 9, BadValue, "'stacks.network.verify[0]' must have exactly one of: http, tcp, command, drift");
    }

    [Fact]
    public void Tcp_and_command_checks_take_retries_and_an_interval_like_http_and_tcp_a_start_period()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              network:
                path: n
                verify:
                  - tcp: { host: db.internal, port: 5432, retries: 6, interval: 5s, start_period: 1m }
                  - command: { run: ./ready.sh, retries: 2, interval: 1m, timeout: 30s }
                  - tcp: { host: db.internal, port: 5432 }
                  - command: { run: ./ready.sh }
            """,
            "airlock.yaml");

        Assert.True(result.IsValid, string.Join('\n', result.Diagnostics));
        Assert.Equal(
            [
                new TcpCheck("db.internal", 5432, TimeSpan.FromSeconds(5), 6, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1)),
                new CommandCheck("./ready.sh", TimeSpan.FromSeconds(30), 2, TimeSpan.FromMinutes(1)),
                new TcpCheck("db.internal", 5432, TimeSpan.FromSeconds(5), 0, TimeSpan.FromSeconds(10)),
                new CommandCheck("./ready.sh", TimeSpan.FromMinutes(5), 0, TimeSpan.FromSeconds(10)),
            ],
            result.Config!.FindStack("network")!.Verify.ToArray());
    }

    [Fact]
    public void Negative_retries_on_a_command_check_are_rejected()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            stacks:
              network:
                path: n
                verify:
                  - command: { run: ./ready.sh, retries: -1 }
            """);

        AssertAt(d, 8, 46, BadValue, "'stacks.network.verify[0].command.retries' must be at least 0, got -1");
    }

    [Fact]
    public void Resource_type_in_two_classes()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments: {}
            resource_classes:
              database: [aws_db_instance]
              storage: [aws_ebs_volume, aws_db_instance]
            """);

        AssertAt(d, 6, 29, BadValue, "resource type 'aws_db_instance' is in both class 'database' and class 'storage'; a type belongs to one class");
    }

    [Fact]
    public void Every_problem_is_reported_at_once_in_file_order()
    {
        var result = WorkspaceConfigLoader.Load(
            """
            version: 1
            project: p
            defualts: {}
            environments:
              prod:
                plan: { max_age: 90 }
                windows: { timezone: Mars/Olympus, allow: [] }
            stacks:
              a: { path: a, depends_on: [b] }
              b: { path: b, depends_on: [a, c] }
            """,
            "airlock.yaml");

        Assert.Equal(
            [UnknownKey, BadDuration, BadTimeZone, DependencyCycle, UnknownStack],
            result.Diagnostics.Select(d => d.Code));
        Assert.Equal([3, 6, 7, 10, 10], result.Diagnostics.Select(d => d.Line));
    }

    [Fact]
    public void Approval_count_no_one_can_reach()
    {
        var d = Only(
            """
            version: 1
            project: p
            teams:
              platform: [alice@example.com]
              security: [alice@example.com]
            environments:
              prod: { approvals: { required: 2, roles: [platform, security] } }
            """);

        AssertAt(d, 7, 34, BadValue, "environment 'prod' needs 2 approvals but teams platform, security have only 1 member");
    }

    [Fact]
    public void Region_in_two_waves()
    {
        var d = Only(
            """
            version: 1
            project: p
            environments:
              prod:
                waves:
                  - { name: canary, regions: [us-west-2] }
                  - { name: rest, regions: [eu-west-1, us-west-2] }
            """);

        AssertAt(d, 7, 44, BadValue, "region 'us-west-2' is in wave 'canary' and again in wave 'rest' of environment 'prod'");
    }
}
