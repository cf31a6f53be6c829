using System.CommandLine;

using Airlock.Application;
using Airlock.Domain.Config;
using Airlock.Server.Hosting;

namespace Airlock.Cli.Commands;

/// <summary>`airlock serve [--urls URL,…] [--database URL] [--workers N] [--lease DURATION]`: the team server over this workspace (API, dashboard, workers).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = $"Where to listen, comma-separated (default {ServerOptions.DefaultUrl}; port 0 picks a free one).", DefaultValueFactory = _ => ServerOptions.DefaultUrl };
        var database = StoreCommandSupport.DatabaseOption();
        var workers = new Option<int>("--workers") { Description = "Apply workers on this replica (0: API only).", DefaultValueFactory = _ => 2 };
        var lease = new Option<string>("--lease") { Description = "Lease of an apply's claims and locks, renewed every third of it; a dead replica's runs are reconciled after it lapses (e.g. 30s, 2m).", DefaultValueFactory = _ => "2m" };
        var command = new Command("serve", "Run the team server: API (/openapi/v1.json), dashboard, apply workers, /healthz, /readyz, /metrics. Several replicas may share one PostgreSQL database.");
        command.Options.Add(urls);
        command.Options.Add(database);
        command.Options.Add(workers);
        command.Options.Add(lease);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var cancellation = new GracefulCancellation(cancellationToken);
            return await GovernedCommand.RunAsync(null, async _ =>
            {
                if (parseResult.GetValue(workers) is < 0 or > 64)
                {
                    throw new UserInputException("--workers must be between 0 and 64");
                }

                if (!Durations.TryParse(parseResult.GetValue(lease)!, out var leaseDuration, out var why) || leaseDuration < TimeSpan.FromSeconds(1))
                {
                    throw new UserInputException($"--lease: {(why.Length > 0 ? why : "must be at least 1s")}");
                }

                var options = new ServerOptions
                {
                    WorkspaceDirectory = Environment.CurrentDirectory,
                    Urls = parseResult.GetValue(urls)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    DatabaseUrl = parseResult.GetValue(database),
                    Workers = parseResult.GetValue(workers),
                    Lease = leaseDuration,
                };
                await using var host = await AirlockServerHost.CreateAsync(options, Environment.GetEnvironmentVariable, cancellation.Token);
                await host.StartAsync(cancellation.Token);
                // One line a script can wait for, naming the real port when 0 was asked for. On stderr: stdout carries
                // only the structured logs, one JSON object a line, for a log collector to parse.
                Console.Error.WriteLine($"airlock serve: listening on {string.Join(", ", host.Addresses)} (replica {options.ReplicaId}, {host.Services.Store.Backend} store, {options.Workers} worker(s), lease {Durations.Format(options.Lease)})");
                await host.ServeUntilCancelledAsync(cancellation.Token);
                return 0;
            }, cancellation.Token);
        });
        return command;
    }
}
