using System.CommandLine;
using System.Text.Json;

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
        var command = new Command("queue", "Show apply queues: running items, waiting items with position, age and why they wait.");
        command.Options.Add(json);
        command.Options.Add(database);
        command.SetAction((parseResult, cancellationToken) => StoreCommandSupport.GuardAsync(async () =>
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
            if (parseResult.GetValue(json))
            {
                var body = new
                {
                    Queues = views.Select(v => new
                    {
                        v.Queue,
                        v.Concurrency,
                        v.Key,
                        Current = v.Current.Select(c => new { c.Item.Id, c.Item.RunId, c.Item.Environment, c.Item.Stack, c.Item.PriorityClass, c.Item.ClaimedBy, RunningSeconds = (long)c.RunningFor.TotalSeconds }),
                        Waiting = v.Waiting.Select(w => new { w.Item.Id, w.Item.RunId, w.Item.Environment, w.Item.Stack, w.Item.PriorityClass, w.Position, AgeSeconds = (long)w.Age.TotalSeconds, w.BlockedReason }),
                        Abandoned = v.Abandoned.Select(a => new { a.Item.Id, a.Item.RunId, a.Item.Environment, a.Item.Stack, a.Item.PriorityClass, a.Item.ClaimedBy, a.AbandonedAt, a.Description }),
                    }),
                };
                Console.Out.WriteLine(JsonSerializer.Serialize(body, StoreCommandSupport.Json));
                return 0;
            }

            if (views.Count == 0)
            {
                Console.Out.WriteLine("All queues are empty.");
                return 0;
            }

            foreach (var view in views)
            {
                var table = new Table().Title(Markup.Escape($"{view.Queue} (concurrency {view.Concurrency?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}{(view.Key is null ? string.Empty : " per " + view.Key)})"))
                    .AddColumns("#", "Run", "Stack", "Class", "State", "Age", "Why");
                foreach (var current in view.Current)
                {
                    table.AddRow("-", Markup.Escape(current.Item.RunId), Markup.Escape($"{current.Item.Environment}/{current.Item.Stack}"), Markup.Escape(current.Item.PriorityClass),
                        "running", StoreCommandSupport.Age(current.RunningFor), Markup.Escape("claimed by " + current.Item.ClaimedBy));
                }

                foreach (var abandoned in view.Abandoned)
                {
                    table.AddRow("-", Markup.Escape(abandoned.Item.RunId), Markup.Escape($"{abandoned.Item.Environment}/{abandoned.Item.Stack}"), Markup.Escape(abandoned.Item.PriorityClass),
                        "abandoned", StoreCommandSupport.Age(now - abandoned.AbandonedAt), Markup.Escape(abandoned.Description));
                }

                foreach (var waiting in view.Waiting)
                {
                    table.AddRow(waiting.Position.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(waiting.Item.RunId), Markup.Escape($"{waiting.Item.Environment}/{waiting.Item.Stack}"),
                        Markup.Escape(waiting.Item.PriorityClass), "waiting", StoreCommandSupport.Age(waiting.Age), Markup.Escape(waiting.BlockedReason));
                }

                AnsiConsole.Write(table);
            }

            return 0;
        }));
        return command;
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
