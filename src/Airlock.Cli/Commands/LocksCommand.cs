using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application.Views;
using Airlock.Cli.Client;

using Airlock.Domain.Locks;

using Spectre.Console;

namespace Airlock.Cli.Commands;

/// <summary>`airlock locks`: every lock with its holder, age and expiry.</summary>
internal static class LocksCommand
{
    public static Command Create()
    {
        var json = StoreCommandSupport.JsonOption();
        var database = StoreCommandSupport.DatabaseOption();
        var server = ServerClient.ServerOption();
        var command = new Command("locks", "List locks: key, holder run, actor, reason, age, expiry and fencing token.");
        command.Options.Add(json);
        command.Options.Add(database);
        command.Options.Add(server);
        command.SetAction((parseResult, cancellationToken) => parseResult.GetValue(server) is { } url
            ? ServerClient.RunAsync(url, async client =>
            {
                var body = await client.GetAsync("api/locks", cancellationToken);
                if (parseResult.GetValue(json))
                {
                    GovernedCommand.WriteJson(body);
                }
                else
                {
                    Render(body, TimeProvider.System.GetUtcNow());
                }

                return 0;
            })
            : StoreCommandSupport.GuardAsync(async () =>
        {
            IReadOnlyList<LockLease> locks = [];
            var store = await StoreCommandSupport.OpenExistingAsync(parseResult.GetValue(database), cancellationToken);
            if (store is not null)
            {
                await using (store)
                {
                    locks = await store.Locks.ListAsync(cancellationToken);
                }
            }

            var now = TimeProvider.System.GetUtcNow();
            // The same shape as GET /api/locks (what --server prints).
            var held = JsonViews.Locks(locks, now);
            if (parseResult.GetValue(json))
            {
                GovernedCommand.WriteJson(held);
                return 0;
            }

            Render(held, now);
            return 0;
        }));
        return command;
    }

    // One rendering for the local store and --server (both give the JsonViews.Locks shape).
    private static void Render(JsonObject body, DateTimeOffset now)
    {
        var locks = body["locks"]!.AsArray();
        if (locks.Count == 0)
        {
            Console.Out.WriteLine("No locks held.");
            return;
        }

        var table = new Table().AddColumns("Key", "Run", "Actor", "Reason", "Age", "Expires", "Token");
        foreach (var l in locks.Select(l => l!))
        {
            var expiresAt = DateTimeOffset.Parse((string)l["expires"]!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
            var expires = (bool)l["expired"]!
                ? $"EXPIRED {StoreCommandSupport.Age(now - expiresAt)} ago (run needs reconciliation when taken)"
                : $"in {StoreCommandSupport.Age(expiresAt - now)}";
            table.AddRow(Markup.Escape((string)l["key"]!), Markup.Escape((string)l["run_id"]!), Markup.Escape((string)l["actor"]!), Markup.Escape((string)l["reason"]!),
                StoreCommandSupport.Age(TimeSpan.FromSeconds((long)l["age_seconds"]!)), Markup.Escape(expires), ((long)l["fencing_token"]!).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
    }
}
