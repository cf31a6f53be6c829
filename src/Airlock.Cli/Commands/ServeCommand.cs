using System.CommandLine;

using Airlock.Server.Hosting;

namespace Airlock.Cli.Commands;

/// <summary>`airlock serve [--urls URL,…] [--database URL]`: the team server over this workspace (API, dashboard, workers).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = $"Where to listen, comma-separated (default {ServerOptions.DefaultUrl}; port 0 picks a free one).", DefaultValueFactory = _ => ServerOptions.DefaultUrl };
        var database = StoreCommandSupport.DatabaseOption();
        var command = new Command("serve", "Run the team server: API (/openapi/v1.json), dashboard, apply workers, /healthz, /readyz, /metrics. Several replicas may share one PostgreSQL database.");
        command.Options.Add(urls);
        command.Options.Add(database);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var cancellation = new GracefulCancellation(cancellationToken);
            return await GovernedCommand.RunAsync(null, async _ =>
            {
                var options = new ServerOptions
                {
                    WorkspaceDirectory = Environment.CurrentDirectory,
                    Urls = parseResult.GetValue(urls)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    DatabaseUrl = parseResult.GetValue(database),
                };
                await using var host = await AirlockServerHost.CreateAsync(options, Environment.GetEnvironmentVariable, cancellation.Token);
                await host.StartAsync(cancellation.Token);
                // One line a script can wait for, naming the real port when 0 was asked for.
                Console.Out.WriteLine($"airlock serve: listening on {string.Join(", ", host.Addresses)} (replica {options.ReplicaId}, {host.Services.Store.Backend} store)");
                await host.ServeUntilCancelledAsync(cancellation.Token);
                return 0;
            }, cancellation.Token);
        });
        return command;
    }
}
