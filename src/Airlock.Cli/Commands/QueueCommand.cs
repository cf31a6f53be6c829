using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Views;
using Airlock.Cli.Client;

using Airlock.Domain.Config;
using Airlock.Domain.Locks;
using Airlock.Domain.Queues;

using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>`airlock queue`: current and waiting apply requests per queue, with position, age and blocked reason.</summary>
internal static class QueueCommand
{
    public static Command Create()
    {
        var json = StoreCommandSupport.JsonOption();
        var database = StoreCommandSupport.DatabaseOption();
        var server = ServerClient.ServerOption();
        var command = new Command("queue", "Show apply queues: running items, waiting items with position, age and why they wait.");
        command.Options.Add(json);
        command.Options.Add(database);
        command.Options.Add(server);
        command.SetAction((parseResult, cancellationToken) => parseResult.GetValue(server) is { } url
            ? ServerClient.RunAsync(url, async client =>
            {
                var body = await client.GetAsync("api/queue", cancellationToken);
                if (parseResult.GetValue(json))
                {
                    GovernedCommand.WriteJson(body);
                }
                else
                {
                    Render(body);
                }

                return 0;
            })
            : StoreCommandSupport.GuardAsync(async () =>
        {
            IReadOnlyList<QueueItem> items = [];
            IReadOnlyList<LockLease> locks = [];
            var store = await StoreCommandSupport.OpenExistingAsync(parseResult.GetValue(database), cancellationToken);
            if (store is not null)
            {
                await using (store)
                {
                    items = await store.Queues.ListActiveAsync(cancellationToken);
                    locks = await store.Locks.ListAsync(cancellationToken);
                }
            }

            var now = TimeProvider.System.GetUtcNow();
            var views = QueueBoard.Build(items, WorkspaceQueues(), locks, now);
            // The same shape as GET /api/queue (what --server prints).
            var board = JsonViews.Queue(views, now);
            if (parseResult.GetValue(json))
            {
                GovernedCommand.WriteJson(board);
                return 0;
            }

            Render(board);
            return 0;
        }));
        return command;
    }

    // One rendering for the local store and --server (both give the JsonViews.Queue shape).
    private static void Render(JsonObject body)
    {
        var views = body["queues"]!.AsArray();
        if (views.Count == 0)
        {
            Console.Out.WriteLine("All queues are empty.");
            return;
        }

        foreach (var view in views.Select(v => v!))
        {
            var concurrency = (int?)view["concurrency"];
            var key = (string?)view["key"];
            var table = new Table().Title(Markup.Escape($"{(string?)view["queue"]} (concurrency {concurrency?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}{(key is null ? string.Empty : " per " + key)})"))
                .AddColumns("#", "Run", "Stack", "Class", "State", "Age", "Why");
            foreach (var current in view["current"]!.AsArray().Select(c => c!))
            {
                table.AddRow("-", Markup.Escape((string)current["run_id"]!), Markup.Escape($"{(string?)current["environment"]}/{(string?)current["stack"]}"), Markup.Escape((string)current["priority_class"]!),
                    "running", StoreCommandSupport.Age(TimeSpan.FromSeconds((long)current["running_seconds"]!)), Markup.Escape("claimed by " + (string?)current["claimed_by"]));
            }

            foreach (var abandoned in view["abandoned"]!.AsArray().Select(a => a!))
            {
                table.AddRow("-", Markup.Escape((string)abandoned["run_id"]!), Markup.Escape($"{(string?)abandoned["environment"]}/{(string?)abandoned["stack"]}"), Markup.Escape((string)abandoned["priority_class"]!),
                    "abandoned", StoreCommandSupport.Age(TimeSpan.FromSeconds((long)abandoned["abandoned_seconds"]!)), Markup.Escape((string)abandoned["description"]!));
            }

            foreach (var waiting in view["waiting"]!.AsArray().Select(w => w!))
            {
                table.AddRow(((int)waiting["position"]!).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape((string)waiting["run_id"]!), Markup.Escape($"{(string?)waiting["environment"]}/{(string?)waiting["stack"]}"),
                    Markup.Escape((string)waiting["priority_class"]!), "waiting", StoreCommandSupport.Age(TimeSpan.FromSeconds((long)waiting["age_seconds"]!)), Markup.Escape((string)waiting["blocked_reason"]!));
            }

            AnsiConsole.Write(table);
        }
    }

    // Limits come from the workspace's airlock.yaml when there is one; without it they show as unknown.
    private static IReadOnlyList<QueueDefinition> WorkspaceQueues()
    {
        var path = Path.Combine(Environment.CurrentDirectory, "airlock.yaml");
        if (!File.Exists(path))
        {
            return [];
        }

        var loaded = WorkspaceConfigLoader.Load(File.ReadAllText(path), path);
        return loaded.IsValid
            ? QueueDefinitions.From(loaded.Config!)
            : throw new InvalidOperationException($"{path} is not valid (run `airlock validate`)");
    }
}
