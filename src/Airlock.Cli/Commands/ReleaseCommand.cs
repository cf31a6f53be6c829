using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Releases;
using Airlock.Application.Views;
using Airlock.Cli.Client;
using Airlock.Domain.Releases;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock release VERSION`, `airlock release resume ID`, `airlock release show ID` and `airlock releases`:
/// one commit and one application version through the environments, resumable at every step.
/// </summary>
internal static class ReleaseCommand
{
    public static Command Create()
    {
        var versionArgument = new Argument<string>("VERSION") { Description = "The application version to ship (e.g. v1.4.2)." };
        var commitOption = new Option<string?>("--commit") { Description = "The commit to release (default HEAD; it must be checked out)." };
        var baseOption = new Option<string?>("--base") { Description = "Find changed stacks against this ref (default: as airlock graph)." };
        var allOption = new Option<bool>("--all") { Description = "Run every stack, whatever changed." };
        var throughOption = new Option<string?>("--through") { Description = "Stop after this environment (default: the whole promotion chain)." };
        var noWaitOption = NoWaitOption();
        var skipCanaryOption = new Option<bool>("--skip-canary-wait") { Description = "Emergency: do not bake canary waves (needs --ticket; recorded in evidence)." };
        var ticketOption = new Option<string?>("--ticket") { Description = "The change or incident ticket that justifies --skip-canary-wait." };
        var asOption = GovernedCommand.AsOption();
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("release", "Take a commit and an application version through the environments: plan, gate, apply in DAG order, deploy, soak; waves with a canary. Exit 0 released, 1 failed, 4 waiting at a gate (resume later), 130 interrupted, 2 bad input, 3 refused.");
        command.Arguments.Add(versionArgument);
        foreach (var option in new Option[] { commitOption, baseOption, allOption, throughOption, noWaitOption, skipCanaryOption, ticketOption, asOption, jsonOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var ticket = parseResult.GetValue(ticketOption);
            var skip = parseResult.GetValue(skipCanaryOption);
            if (skip != (ticket is not null))
            {
                throw new UserInputException(skip ? "--skip-canary-wait needs --ticket ID" : "--ticket belongs to --skip-canary-wait");
            }

            if (parseResult.GetValue(allOption) && parseResult.GetValue(baseOption) is not null)
            {
                throw new UserInputException("--all runs every stack whatever changed: it cannot be combined with --base");
            }

            var request = new ReleaseRequest(
                parseResult.GetValue(versionArgument)!,
                parseResult.GetValue(commitOption),
                parseResult.GetValue(baseOption),
                parseResult.GetValue(allOption),
                parseResult.GetValue(throughOption),
                GovernedCommand.Actor(parseResult.GetValue(asOption)),
                !parseResult.GetValue(noWaitOption),
                skip ? ticket : null);
            var json = parseResult.GetValue(jsonOption);
            using var cancellation = new GracefulCancellation(cancellationToken);
            var outcome = await new ReleaseService(services).StartAsync(request, new ConsoleReleaseObserver(json ? Console.Error : Console.Out), cancellation.Token);
            return Report(outcome, json);
        }, cancellationToken));

        command.Subcommands.Add(CreateResume());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateRevert());
        return command;
    }

    public static Command CreateList()
    {
        var limitOption = new Option<int>("--limit") { Description = "At most this many (newest first).", DefaultValueFactory = _ => 20 };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("releases", "List releases, newest first, with where each stands.");
        command.Options.Add(limitOption);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.Options.Add(serverOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var limit = parseResult.GetValue(limitOption);
            if (limit < 1)
            {
                return Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--limit must be at least 1"));
            }

            if (parseResult.GetValue(serverOption) is { } server)
            {
                return ServerClient.RunAsync(server, async client =>
                {
                    var body = await client.GetAsync("api/releases" + ServerClient.Query(("limit", limit)), cancellationToken);
                    return List(body, [.. body["releases"]!.AsArray().Select(r => FromJson(r!.AsObject()))], parseResult.GetValue(jsonOption), TimeProvider.System.GetUtcNow());
                });
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var releases = await new ReleaseService(services).ListAsync(limit, cancellationToken);
                return List(new JsonObject { ["releases"] = new JsonArray([.. releases.Select(r => (JsonNode)JsonViews.Release(r))]) }, releases, parseResult.GetValue(jsonOption), services.Time.GetUtcNow());
            }, cancellationToken);
        });
        return command;
    }

    // One rendering for the local store and --server (the server's JsonViews.Release read back into ReleaseViews).
    private static int List(JsonObject body, IReadOnlyList<ReleaseView> releases, bool json, DateTimeOffset now)
    {
        if (json)
        {
            GovernedCommand.WriteJson(body);
            return ExitCodes.Ok;
        }

        if (releases.Count == 0)
        {
            Console.WriteLine("no releases yet");
            return ExitCodes.Ok;
        }

        Console.WriteLine($"{"RELEASE",-16} {"VERSION",-12} {"INFRA",-14} {"STATE",-12} {"AT",-10} {"AGE",-8} STATEMENT");
        foreach (var (record, progress) in releases)
        {
            Console.WriteLine($"{record.Id,-16} {record.Version,-12} {progress.InfraVersion,-14} {record.State,-12} {progress.Current?.Name ?? "-",-10} {StoreCommandSupport.Age(now - record.CreatedAt),-8} {progress.Statement ?? ""}");
        }

        return ExitCodes.Ok;
    }

    /// <summary>A release as the API shows it (JsonViews.Release), read back for the local rendering.</summary>
    private static ReleaseView FromJson(JsonObject node)
    {
        var progress = ReleaseProgress.FromJson(node.ToJsonString());
        static DateTimeOffset At(JsonNode? instant) =>
            DateTimeOffset.Parse((string)instant!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
        var record = new ReleaseRecord(
            (string)node["id"]!,
            progress.Version,
            progress.Version,
            progress.Commit,
            (string)node["status"]!,
            At(node["created_at"]),
            At(node["updated_at"]),
            progress.ToJson(),
            (string?)node["owner"],
            node["lease_expires"] is { } lease ? At(lease) : null);
        return new ReleaseView(record, progress);
    }

    private static Option<bool> NoWaitOption() => new("--no-wait") { Description = "At a gate (approvals, change window, freeze) save and exit 4 instead of waiting; continue with airlock release resume." };

    private static Command CreateResume()
    {
        var idArgument = new Argument<string>("RELEASE_ID") { Description = "The release to continue." };
        var noWaitOption = NoWaitOption();
        var asOption = GovernedCommand.AsOption();
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("resume", "Continue a waiting, interrupted or crashed release from its last completed step (nothing applied is applied again).");
        command.Arguments.Add(idArgument);
        foreach (var option in new Option[] { noWaitOption, asOption, jsonOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var json = parseResult.GetValue(jsonOption);
            using var cancellation = new GracefulCancellation(cancellationToken);
            var outcome = await new ReleaseService(services).ResumeAsync(
                parseResult.GetValue(idArgument)!,
                GovernedCommand.Actor(parseResult.GetValue(asOption)),
                !parseResult.GetValue(noWaitOption),
                new ConsoleReleaseObserver(json ? Console.Error : Console.Out),
                cancellation.Token);
            return Report(outcome, json);
        }, cancellationToken));
        return command;
    }

    private static Command CreateShow()
    {
        var idArgument = new Argument<string>("RELEASE_ID") { Description = "The release." };
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var serverOption = ServerClient.ServerOption();
        var command = new Command("show", "A release's progress per environment, wave, stack and application, and its timeline.");
        command.Arguments.Add(idArgument);
        command.Options.Add(jsonOption);
        command.Options.Add(databaseOption);
        command.Options.Add(serverOption);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var id = parseResult.GetValue(idArgument)!;
            if (parseResult.GetValue(serverOption) is { } server)
            {
                return ServerClient.RunAsync(server, async client =>
                {
                    var release = await ServerClient.UnlessUnknownAsync(client.GetAsync($"api/releases/{Uri.EscapeDataString(id)}", cancellationToken), $"unknown release '{id}' (airlock releases lists them)");

                    return Show(release, FromJson(release), parseResult.GetValue(jsonOption));
                });
            }

            return GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
            {
                var view = await new ReleaseService(services).GetAsync(id, cancellationToken);
                return Show(JsonViews.Release(view), view, parseResult.GetValue(jsonOption));
            }, cancellationToken);
        });
        return command;
    }

    private static int Show(JsonObject release, ReleaseView view, bool json)
    {
        if (json)
        {
            GovernedCommand.WriteJson(release);
        }
        else
        {
            Render(view);
        }

        return ExitCodes.Ok;
    }

    private static Command CreateRevert()
    {
        var idArgument = new Argument<string>("RELEASE_ID") { Description = "The release whose infrastructure changes to revert." };
        var envOption = new Option<string>("--env") { Description = "The environment to revert.", Required = true };
        var toOption = new Option<string?>("--to") { Description = "The commit whose configuration to go back to (default: the last release that passed the environment before this one, else the release commit's parent)." };
        var asOption = GovernedCommand.AsOption();
        var jsonOption = StoreCommandSupport.JsonOption();
        var databaseOption = StoreCommandSupport.DatabaseOption();
        var command = new Command("revert", "Prepare the infrastructure revert of a release in one environment: plan every stack it applied there from the earlier commit's configuration. Nothing is applied: approve and apply the plans like any other.");
        command.Arguments.Add(idArgument);
        foreach (var option in new Option[] { envOption, toOption, asOption, jsonOption, databaseOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(databaseOption), async services =>
        {
            var json = parseResult.GetValue(jsonOption);
            var revert = await new ReleaseService(services).PrepareRevertAsync(
                parseResult.GetValue(idArgument)!,
                parseResult.GetValue(envOption)!,
                parseResult.GetValue(toOption),
                GovernedCommand.Actor(parseResult.GetValue(asOption)),
                new ConsoleToolSink(json ? Console.Error : Console.Out),
                cancellationToken);
            if (json)
            {
                GovernedCommand.WriteJson(new JsonObject
                {
                    ["release_id"] = revert.ReleaseId,
                    ["environment"] = revert.Environment,
                    ["commit"] = revert.Commit,
                    ["worktree"] = revert.Worktree,
                    ["plans"] = new JsonArray([.. revert.Plans.Select(p => (JsonNode)new JsonObject
                    {
                        ["stack"] = p.Stack,
                        ["region"] = p.Region,
                        ["plan_id"] = p.PlanId,
                        ["has_changes"] = p.HasChanges,
                        ["changes"] = p.Changes,
                    })]),
                });
                return ExitCodes.Ok;
            }

            Console.WriteLine();
            Console.WriteLine($"revert of {revert.ReleaseId} in {revert.Environment}: back to {revert.Commit[..12]} (checked out in {revert.Worktree})");
            foreach (var plan in revert.Plans)
            {
                Console.WriteLine($"  {plan.Stack}{(plan.Region is null ? "" : "@" + plan.Region)}  {plan.PlanId}  {(plan.HasChanges ? plan.Changes : "no changes")}");
            }

            Console.WriteLine("nothing was applied: approve each plan as the environment requires (airlock approve PLAN_ID), then airlock apply PLAN_ID");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static int Report(ReleaseOutcome outcome, bool json)
    {
        if (json)
        {
            var node = (JsonObject)JsonNode.Parse(outcome.Progress.ToJson())!;
            node["id"] = outcome.ReleaseId;
            node["status"] = ReleaseService.Wire(outcome.Status);
            node["exit_code"] = outcome.ExitCode;
            node["statement"] = outcome.Statement;
            GovernedCommand.WriteJson(node);
            return outcome.ExitCode;
        }

        var mark = outcome.Status switch
        {
            ReleaseStatus.Succeeded => "✔ released",
            ReleaseStatus.Waiting => "■ waiting",
            ReleaseStatus.Interrupted => "■ interrupted",
            _ => "✖ failed",
        };
        Console.WriteLine();
        Console.WriteLine($"{mark}: {outcome.Statement}");
        Console.WriteLine($"release {outcome.ReleaseId} · airlock release show {outcome.ReleaseId}");
        return outcome.ExitCode;
    }

    private static void Render(ReleaseView view)
    {
        var (record, progress) = view;
        Console.WriteLine($"release {record.Id}: {progress.Version} on infra {progress.InfraVersion} (commit {progress.Commit[..Math.Min(12, progress.Commit.Length)]}) — {record.State}");
        if (progress.Statement is { } statement)
        {
            Console.WriteLine($"  {statement}");
        }

        if (record.Owner is { } owner && record.State is "running")
        {
            Console.WriteLine($"  driven by {owner}, lease until {StoreCommandSupport.Instant(record.LeaseExpires ?? record.UpdatedAt)}");
        }

        Console.WriteLine($"  stacks: {(progress.Stacks.Count == 0 ? "none changed" : string.Join(", ", progress.Stacks.Select(s => $"{s.Stack} ({s.Reason})")))}");
        if (progress.SkipCanaryWait is { } skip)
        {
            Console.WriteLine($"  canary bake skipped in an emergency by {skip.Actor}, ticket {skip.Ticket}");
        }

        foreach (var env in progress.Environments)
        {
            Console.WriteLine();
            Console.WriteLine($"{env.Name}: {Wire(env.Status)}" + (env.Reason is { } reason ? $" — {reason}" : ""));
            foreach (var wave in env.Waves)
            {
                if (env.Waves.Count > 1 || wave.Name != env.Name)
                {
                    Console.WriteLine($"  wave {wave.Name} [{string.Join(", ", wave.Regions)}]: {Wire(wave.Status)}" + (wave.BakeUntil is { } until ? $" (bake until {StoreCommandSupport.Instant(until)})" : ""));
                }

                foreach (var target in wave.Targets)
                {
                    Console.WriteLine($"    stack {target.Label,-28} {Wire(target.Status),-18} {target.PlanId ?? ""} {target.RunId ?? ""} {target.Detail ?? ""}".TrimEnd());
                }

                foreach (var app in wave.Apps)
                {
                    Console.WriteLine($"    app   {app.Label,-28} {Wire(app.Status),-18} {(app.Color is { } color ? "colour " + color + " " : "")}{app.Detail ?? ""}".TrimEnd());
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("timeline:");
        foreach (var entry in progress.Timeline)
        {
            Console.WriteLine($"  {StoreCommandSupport.Instant(entry.At)}  {entry.Message}");
        }
    }

    private static string Wire<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}

/// <summary>Prints release steps as they happen, with tool output indented beneath.</summary>
internal sealed class ConsoleReleaseObserver(TextWriter writer) : IReleaseObserver
{
    private readonly Lock _gate = new();

    public IOutputSink ToolOutput { get; } = new ConsoleToolSink(writer);

    public void Report(string message)
    {
        lock (_gate)
        {
            writer.WriteLine(message.StartsWith(' ') ? message : "▸ " + message);
        }
    }
}
