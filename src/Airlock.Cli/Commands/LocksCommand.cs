using System.CommandLine;
using System.Text.Json;

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
        var command = new Command("locks", "List locks: key, holder run, actor, reason, age, expiry and fencing token.");
        command.Options.Add(json);
        command.Options.Add(database);
        command.SetAction((parseResult, cancellationToken) => StoreCommandSupport.GuardAsync(async () =>
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
            if (parseResult.GetValue(json))
            {
                var body = new
                {
                    Locks = locks.Select(l => new
                    {
                        Key = l.Key.Value,
                        Kind = l.Key.Kind.ToString().ToLowerInvariant(),
                        l.Holder.RunId,
                        l.Holder.Actor,
                        l.Holder.Reason,
                        Since = StoreCommandSupport.Instant(l.Holder.Since),
                        Expires = StoreCommandSupport.Instant(l.Holder.Expires),
                        AgeSeconds = (long)(now - l.Holder.Since).TotalSeconds,
                        Expired = l.IsExpiredAt(now),
                        l.FencingToken,
                    }),
                };
                Console.Out.WriteLine(JsonSerializer.Serialize(body, StoreCommandSupport.Json));
                return 0;
            }

            if (locks.Count == 0)
            {
                Console.Out.WriteLine("No locks held.");
                return 0;
            }

            var table = new Table().AddColumns("Key", "Run", "Actor", "Reason", "Age", "Expires", "Token");
            foreach (var l in locks)
            {
                var expires = l.IsExpiredAt(now)
                    ? $"EXPIRED {StoreCommandSupport.Age(now - l.Holder.Expires)} ago (run needs reconciliation when taken)"
                    : $"in {StoreCommandSupport.Age(l.Holder.Expires - now)}";
                table.AddRow(Markup.Escape(l.Key.Value), Markup.Escape(l.Holder.RunId), Markup.Escape(l.Holder.Actor), Markup.Escape(l.Holder.Reason),
                    StoreCommandSupport.Age(now - l.Holder.Since), Markup.Escape(expires), l.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
