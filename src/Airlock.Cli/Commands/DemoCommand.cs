using System.CommandLine;
using System.Net.Http.Headers;

using Airlock.Application;
using Airlock.Application.Approvals;
using Airlock.Application.Releases;
using Airlock.Application.Tokens;
using Airlock.Domain.Evidence;
using Airlock.Domain.Releases;
using Airlock.Engines.Processes;
using Airlock.Server.Hosting;

using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock demo [--no-serve] [--keep]`: the whole of Airlock on a real local platform
/// (examples/local-platform: a SQLite database, an edge routing config and a real HTTP service
/// deployed blue-green on loopback ports), in a fresh temporary git repository. It starts the server
/// in-process on a free loopback port (chosen with the colours' ports), takes release v1 through dev → stage → prod (eu-west canary,
/// then us-east) with bob and carol approving what alice asked for, then v2 whose canary fails its
/// health check after the switch and is rolled back, and verifies the evidence chain. Nothing outside
/// the temporary directory and loopback is touched; every process it started is stopped at the end.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Who asks for the releases.</summary>
    public const string Requester = "alice@example.com";

    /// <summary>Who approves prod: one from platform, one from security, never the requester.</summary>
    public static readonly IReadOnlyList<string> Approvers = ["bob@example.com", "carol@example.com"];

    public static Command Create()
    {
        var noServe = new Option<bool>("--no-serve") { Description = "Exit at the end instead of serving the dashboard and API until Ctrl+C (exit 0 when everything went as scripted)." };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary workspace afterwards (its path is printed)." };
        var command = new Command("demo", "Run Airlock on a real local platform in a temporary directory: the server on loopback, release v1 through dev, stage and prod (canary wave first, prod approved by two people), then v2 whose canary fails its health check and is rolled back, then the evidence verified.");
        command.Options.Add(noServe);
        command.Options.Add(keep);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var cancellation = new GracefulCancellation(cancellationToken);
            return await RunAsync(!parseResult.GetValue(noServe), parseResult.GetValue(keep), cancellation.Token);
        });
        return command;
    }

    private static async Task<int> RunAsync(bool serve, bool keep, CancellationToken cancellationToken)
    {
        if (DemoWorkspace.MissingPrerequisite() is { } missing)
        {
            return GovernedCommand.Fail(ExitCodes.Refused, missing);
        }

        // The demo's own store, keys and identities only: settings from the caller's shell
        // (AIRLOCK_DATABASE_URL, keys, actor) must not send anything elsewhere.
        foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>().Where(n => n.StartsWith("AIRLOCK_", StringComparison.Ordinal)))
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        // The in-process server logs JSON lines at Information; the demo's own output says what happens.
        Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Error");

        DemoWorkspace workspace;
        try
        {
            workspace = DemoWorkspace.Create();
        }
        catch (IOException e)
        {
            return GovernedCommand.Fail(ExitCodes.Failed, e.Message);
        }

        var original = Environment.CurrentDirectory;
        var log = new DemoLog(Path.Combine(workspace.Root, "demo.log"));
        try
        {
            Environment.CurrentDirectory = workspace.Root;
            return await new DemoRun(workspace, log, serve, keep).RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("[yellow]■ interrupted[/]");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The demo reports what stopped it in one line; the full story is in demo.log.
            log.WriteLine(OutputChannel.Stderr, e.ToString());
            return GovernedCommand.Fail(ExitCodes.Failed, $"the demo stopped: {e.Message} (details in {log.Path})");
        }
        finally
        {
            Environment.CurrentDirectory = original;
            var stopped = workspace.StopApplications();
            log.Dispose();
            AnsiConsole.MarkupLine($"[grey]Stopped {stopped} sample application process(es) the demo started.[/]");
            if (keep)
            {
                AnsiConsole.MarkupLine($"[grey]The workspace stays in {Markup.Escape(workspace.Root)}[/]");
            }
            else
            {
                workspace.Delete();
            }
        }
    }

    /// <summary>One demo: the steps, in order, against one workspace and one in-process server.</summary>
    private sealed class DemoRun(DemoWorkspace workspace, DemoLog log, bool serve, bool keep)
    {
        private int _problems;

        public async Task<int> RunAsync(CancellationToken ct)
        {
            AnsiConsole.Write(new Rule("[bold]Airlock demo: a governed release on a real local platform[/]").LeftJustified());
            AnsiConsole.MarkupLine($"[grey]Workspace (a fresh git repository): {Markup.Escape(workspace.Root)}[/]");
            AnsiConsole.MarkupLine("[grey]Stacks: database (SQLite file + migrations, run by the sample app's sqlite mode; class \"database\": destroy-guarded), edge (routing config: ports of blue and green, which is live).[/]");
            AnsiConsole.MarkupLine("[grey]Application: web (samples/Airlock.SampleApp), blue-green on 127.0.0.1. Environments dev → stage → prod; prod rolls out eu-west (canary) then us-east, and needs two approvers.[/]");
            AnsiConsole.WriteLine();

            await using var host = await Step("Start the server (embedded SQLite store, loopback only)", async () =>
            {
                var started = await AirlockServerHost.CreateAsync(new ServerOptions { WorkspaceDirectory = workspace.Root, Urls = [$"http://127.0.0.1:{workspace.ServerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}"], ReplicaId = "demo" }, Environment.GetEnvironmentVariable, ct);
                await started.StartAsync(ct);
                return started;
            });
            var url = host.Addresses[0].TrimEnd('/');
            Ok($"listening on {url} ({host.Services.Store.Backend} store in .airlock/)");

            var tokens = await Step("Create API tokens for the demo team", async () => await CreateTokensAsync(host, url, ct));
            var services = host.Services;

            AnsiConsole.Write(new Rule("[bold]Release v1: dev → stage → prod (eu-west canary, then us-east)[/]").LeftJustified());
            var v1 = await ReleaseAsync(services, "v1", all: true, ct);
            ct.ThrowIfCancellationRequested(); // an interrupted release stops the demo, not just that release
            CheckV1(v1);

            AnsiConsole.Write(new Rule("[bold]Release v2: its canary fails after the switch and is rolled back[/]").LeftJustified());
            workspace.CommitV2();
            AnsiConsole.MarkupLine("[grey]v2 changes only the application, and carries an injected fault (app/inject-fault): in prod eu-west its /health passes the check before the switch, then fails once it takes traffic.[/]");
            var v2 = await ReleaseAsync(services, "v2", all: false, ct, expectFailure: true);
            ct.ThrowIfCancellationRequested();
            await CheckV2Async(v2, ct);

            AnsiConsole.Write(new Rule("[bold]Evidence[/]").LeftJustified());
            await Step("Verify the evidence chain and its signed checkpoints", async () =>
            {
                using var keyring = EvidenceWorkspace.LoadKeyring();
                var result = await EvidenceExport.VerifyStoreAsync(services.Store.Evidence, keyring, ChainVerifierOptions.Live, ct);
                if (result.Ok)
                {
                    Ok($"evidence verifies: {result.RecordCount} records, {result.CheckpointsVerified} signed checkpoints, head {result.HeadHash}");
                }
                else
                {
                    Problem($"evidence does not verify: {result.Failure!.Code}: {result.Failure.Message}");
                }

                return 0;
            });

            WhereToLook(url, tokens);
            AnsiConsole.WriteLine();
            AnsiConsole.MarkupLine(_problems == 0
                ? "[green]✓ Everything went as scripted[/] (the one red step above was the expected canary failure)."
                : $"[red]✗ {_problems} step(s) did not go as scripted[/]; details in {Markup.Escape(log.Path)}");
            if (serve && _problems == 0)
            {
                // One short line (Spectre wraps at the terminal's width) that scripts and tests can wait for.
                AnsiConsole.MarkupLine($"[bold]Serving {url}/ until Ctrl+C[/]");
                AnsiConsole.MarkupLine("[grey](the sample applications keep running until then)[/]");
                await host.ServeUntilCancelledAsync(ct);
            }

            return _problems == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }

        private async Task<string> CreateTokensAsync(AirlockServerHost host, string url, CancellationToken ct)
        {
            var tokenService = new TokenService(host.Services.Store.Tokens, host.Services.Time, host.Services.Evidence);
            var teams = host.Services.Workspace.Teams();
            var lines = new List<string>();
            string? bobToken = null;
            string[] team = [Requester, .. Approvers];
            foreach (var actor in team)
            {
                var memberOf = teams.Where(t => t.Value.Contains(actor)).Select(t => t.Key).ToList();
                var created = await tokenService.CreateAsync(actor, memberOf, "airlock demo", TimeSpan.FromHours(12), ct);
                lines.Add($"{actor} {created.Secret}");
                bobToken ??= actor == Approvers[0] ? created.Secret : null;
            }

            // Secrets go to a private file, never to the terminal.
            var path = workspace.WriteTokens(lines);
            Ok($"tokens for {Requester}, {string.Join(", ", Approvers)} in {path} (mode 0600; not printed)");

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bobToken);
            var me = await http.GetAsync($"{url}/api/me", ct);
            var body = await me.Content.ReadAsStringAsync(ct);
            if (me.IsSuccessStatusCode && body.Contains(Approvers[0], StringComparison.Ordinal))
            {
                Ok($"GET /api/me with bob's token answers {Approvers[0]}");
            }
            else
            {
                Problem($"GET /api/me with bob's token answered {(int)me.StatusCode}");
            }

            return path;
        }

        // Starts a release and drives it to its end; at every approval gate bob and carol approve the waiting plans.
        private async Task<ReleaseOutcome> ReleaseAsync(AirlockServices services, string version, bool all, CancellationToken ct, bool expectFailure = false)
        {
            var releases = new ReleaseService(services);
            var observer = new DemoObserver(log) { ExpectFailure = expectFailure };
            var outcome = await Status($"release {version}", observer, () => releases.StartAsync(new ReleaseRequest(version, null, null, all, null, Requester, Wait: false), observer, ct));
            for (var gate = 0; outcome.Status == ReleaseStatus.Waiting && gate < 6; gate++)
            {
                var waiting = outcome.Progress.Environments.SelectMany(e => e.Waves.SelectMany(w => w.Targets.Select(t => (Environment: e.Name, Target: t))))
                    .Where(t => t.Target.Status == TargetStatus.AwaitingApproval && t.Target.PlanId is not null).ToList();
                if (waiting.Count == 0)
                {
                    break; // held by something an approval cannot lift; reported below
                }

                AnsiConsole.MarkupLine($"[yellow]■ waiting for approvals:[/] {Markup.Escape(string.Join(", ", waiting.Select(w => $"{w.Target.Label} in {w.Environment} ({w.Target.PlanId})")))}, requested by {Requester}");
                foreach (var (environment, target) in waiting)
                {
                    foreach (var approver in Approvers)
                    {
                        await new ApprovalService(services).ApproveAsync(new ApproveRequest(target.PlanId!, approver, []), ct);
                        var team = services.Workspace.Teams().Where(t => t.Value.Contains(approver)).Select(t => t.Key).FirstOrDefault() ?? "no team";
                        Ok($"{target.Label} in {environment} ({target.PlanId}) approved by {approver} (team {team})");
                    }
                }

                outcome = await Status($"release {version}: resuming", observer, () => releases.ResumeAsync(outcome.ReleaseId, Requester, false, observer, ct));
            }

            return outcome;
        }

        private static async Task<ReleaseOutcome> Status(string title, DemoObserver observer, Func<Task<ReleaseOutcome>> drive) =>
            !AnsiConsole.Profile.Capabilities.Interactive
                ? await drive() // a spinner in a log file is only noise
                : await AnsiConsole.Status().StartAsync(title, async context =>
            {
                observer.Status = context;
                try
                {
                    return await drive();
                }
                finally
                {
                    observer.Status = null;
                }
            });

        private void CheckV1(ReleaseOutcome v1)
        {
            if (v1.Status != ReleaseStatus.Succeeded)
            {
                Problem($"v1 did not release: {v1.Statement}");
                return;
            }

            foreach (var environment in v1.Progress.Environments)
            {
                var where = string.Join(", ", environment.Waves.SelectMany(w => w.Apps).Select(a => $"{a.Label} {a.Status.ToString().ToLowerInvariant()} on {a.Color}"));
                Ok($"{environment.Name}: {environment.Targets.Count(t => t.Status == TargetStatus.Applied)} stack target(s) applied and verified; {where}");
            }

            Ok($"v1 released ({v1.ReleaseId}): {v1.Statement}");
        }

        private async Task CheckV2Async(ReleaseOutcome v2, CancellationToken ct)
        {
            var prod = v2.Progress.Environments.SingleOrDefault(e => e.Name == "prod");
            var canary = prod?.Waves.FirstOrDefault()?.Apps.FirstOrDefault();
            if (v2.Status == ReleaseStatus.Failed && canary?.Status == AppStatus.RolledBack)
            {
                AnsiConsole.MarkupLine($"[red]✗[/] [bold yellow]expected failure:[/] {Markup.Escape(canary.Detail ?? v2.Statement)}");
            }
            else
            {
                Problem($"v2 was expected to fail at the canary and roll back, but: {v2.Statement}");
                return;
            }

            var live = workspace.LiveColor("prod-eu-west");
            var served = live is null ? null : await workspace.VersionServedAsync("prod-eu-west", live, ct);
            Check(live == "blue" && served == "v1", $"traffic in prod/eu-west stays on {live ?? "nothing"}, which serves {served ?? "nothing"} (asked over HTTP)");
            var later = prod!.Waves.Skip(1).SelectMany(w => w.Apps).ToList();
            Check(later.All(a => a.Status == AppStatus.Pending), $"us-east never saw v2 (web@us-east {string.Join(", ", later.Select(a => a.Status.ToString().ToLowerInvariant()))}); it still serves v1");
            Check(v2.Progress.Stacks.Count == 0 && v2.Progress.Environments.All(e => !e.Targets.Any()), "infrastructure untouched: v2 planned and applied no stack, and infrastructure is never rolled back automatically");
        }

        private void WhereToLook(string url, string tokens)
        {
            AnsiConsole.Write(new Rule("[bold]Where to look[/]").LeftJustified());
            var table = new Table().Border(TableBorder.Simple).HideHeaders().AddColumn("what").AddColumn("where");
            if (!serve && !keep)
            {
                // The server stops and the workspace is removed at exit: nothing here would still be there.
                table.AddRow("next time", Markup.Escape("airlock demo serves the dashboard and API until Ctrl+C; --no-serve --keep keeps the workspace to inspect (airlock evidence verify, airlock releases)"));
                AnsiConsole.Write(table);
                return;
            }

            if (serve)
            {
                table.AddRow("dashboard", Markup.Escape($"{url}/ (until Ctrl+C)"));
                table.AddRow("API", Markup.Escape($"{url}/api/runs (Authorization: Bearer <token from {tokens}>), {url}/openapi/v1.json"));
            }
            else
            {
                table.AddRow("dashboard", Markup.Escape($"cd {workspace.Root} && airlock serve (this run's server stops at exit: --no-serve)"));
            }

            table.AddRow("workspace", Markup.Escape(workspace.Root + (keep ? " (kept: --keep)" : " (removed at exit: --keep keeps it)")));
            table.AddRow("evidence", Markup.Escape($"cd {workspace.Root} && airlock evidence verify"));
            table.AddRow("releases", Markup.Escape("airlock releases · airlock release show ID · airlock trace app:v1"));
            table.AddRow("log", Markup.Escape(log.Path));
            AnsiConsole.Write(table);
        }

        private static async Task<T> Step<T>(string title, Func<Task<T>> body)
        {
            AnsiConsole.MarkupLine($"[bold]▸ {Markup.Escape(title)}[/]");
            return AnsiConsole.Profile.Capabilities.Interactive
                ? await AnsiConsole.Status().StartAsync(title, _ => body())
                : await body();
        }

        private void Check(bool passed, string message)
        {
            if (passed)
            {
                Ok(message);
            }
            else
            {
                Problem(message);
            }
        }

        private static void Ok(string message) => AnsiConsole.MarkupLine($"[green]✓[/] {Markup.Escape(message)}");

        private void Problem(string message)
        {
            _problems++;
            AnsiConsole.MarkupLine($"[red]✗ not as scripted:[/] {Markup.Escape(message)}");
        }
    }

    /// <summary>Release progress: every step line goes to the log, the main ones to the terminal.</summary>
    private sealed class DemoObserver(DemoLog log) : IReleaseObserver
    {
        private readonly Lock _gate = new();

        public StatusContext? Status { get; set; }

        /// <summary>The release is meant to fail (the demo's canary): its failure lines are marked as expected.</summary>
        public bool ExpectFailure { get; init; }

        public IOutputSink ToolOutput => log;

        public void Report(string message)
        {
            log.WriteLine(OutputChannel.Stdout, message);
            if (message.StartsWith(' '))
            {
                // Sub-steps (deploy, switch, health, soak rounds) only move the spinner.
                Status?.Status(Short(message));
                return;
            }

            lock (_gate)
            {
                var (colour, text) = message switch
                {
                    _ when message.StartsWith("✓ ", StringComparison.Ordinal) => ("green", message),
                    _ when message.StartsWith("✖ ", StringComparison.Ordinal) && ExpectFailure => ("yellow", message + " (expected)"),
                    _ when message.StartsWith("✖ ", StringComparison.Ordinal) => ("red", message),
                    _ when message.StartsWith("■ ", StringComparison.Ordinal) => ("yellow", message),
                    _ => ("grey", "· " + message),
                };
                AnsiConsole.MarkupLine($"  [{colour}]{Markup.Escape(text)}[/]");
                Status?.Status(Short(message));
            }
        }

        // The spinner line must fit on one row, or every redraw leaves a broken line behind.
        private static string Short(string message)
        {
            var text = message.Trim();
            var room = Math.Max(20, AnsiConsole.Profile.Width - 8);
            return Markup.Escape(text.Length <= room ? text : text[..(room - 1)] + "…");
        }
    }

    /// <summary>demo.log in the workspace: every release line and all tool output (already redacted).</summary>
    private sealed class DemoLog(string path) : IOutputSink, IDisposable
    {
        private readonly StreamWriter _writer = new(path, append: true) { AutoFlush = true };
        private readonly Lock _gate = new();

        public string Path { get; } = path;

        public void WriteLine(OutputChannel stream, string line)
        {
            lock (_gate)
            {
                _writer.WriteLine(line);
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _writer.Dispose();
            }
        }
    }
}
