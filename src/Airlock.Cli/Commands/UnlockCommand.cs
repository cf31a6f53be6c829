using System.CommandLine;

using Airlock.Application;
using Airlock.Cli.Client;
using Airlock.Domain.Config;
using Airlock.Domain.Locks;

namespace Airlock.Cli.Commands;

/// <summary>`airlock unlock KEY --reason TEXT --as ACTOR` (or `--server URL`, as the token's actor): force-unlock, recorded on the holder's run.</summary>
internal static class UnlockCommand
{
    // Break-glass operators (comma-separated) added to the members of airlock.yaml's locks.admins teams, for when the
    // config cannot name them (no airlock.yaml where the store is, or the admins themselves are unreachable).
    public const string AdministratorsVariable = "AIRLOCK_LOCK_ADMINS";

    public static Command Create()
    {
        var key = new Argument<string>("KEY") { Description = "Lock key as shown by `airlock locks`, e.g. stack:acme/prod/123/eu-west-1/network." };
        var reason = new Option<string>("--reason") { Description = "Why the lock is being forced (recorded).", Required = true };
        var actor = new Option<string?>("--as") { Description = "Who is forcing it (must be a lock administrator); required without --server." };
        var database = StoreCommandSupport.DatabaseOption();
        var server = ServerClient.ServerOption();
        var command = new Command("unlock", "Force-unlock a lock. The holder's run is marked NeedsReconciliation and the unlock is recorded as its event.");
        command.Arguments.Add(key);
        command.Options.Add(reason);
        command.Options.Add(actor);
        command.Options.Add(database);
        command.Options.Add(server);
        command.SetAction((parseResult, cancellationToken) => parseResult.GetValue(server) is { } url
            ? parseResult.GetValue(actor) is not null
                ? Task.FromResult(GovernedCommand.Fail(ExitCodes.BadInput, "--as does not apply with --server: the server force-unlocks as the actor of the token in " + ServerClient.TokenVariable))
                : ServerClient.RunAsync(url, async client =>
                {
                    // The server checks that the token's actor is a lock administrator (airlock.yaml's locks.admins).
                    var removed = await client.PostAsync("api/locks/force-unlock", new { key = parseResult.GetValue(key), reason = parseResult.GetValue(reason) }, cancellationToken);
                    return Unlocked((string)removed["key"]!, (string)removed["run_id"]!, (string)removed["holder"]!, (long)removed["fencing_token"]!);
                })
            : StoreCommandSupport.GuardAsync(async () =>
        {
            var lockKey = LockKey.Parse(parseResult.GetValue(key)!);
            var who = parseResult.GetValue(actor) ?? throw new ArgumentException("--as is required without --server: who is forcing the lock (a lock administrator)");
            var why = parseResult.GetValue(reason)!;
            var breakGlass = (Environment.GetEnvironmentVariable(AdministratorsVariable) ?? string.Empty).Split(',');
            new LockAdministrators(WorkspaceAdministrators().Concat(breakGlass)).Authorize(who, why);
            var store = await StoreCommandSupport.OpenExistingAsync(parseResult.GetValue(database), cancellationToken)
                ?? throw new InvalidOperationException($"lock {lockKey.Value} is not held (no store in {Path.Combine(Environment.CurrentDirectory, ".airlock")})");
            await using (store)
            {
                var removed = await store.Locks.ForceUnlockAsync(lockKey, who, why, cancellationToken)
                    ?? throw new InvalidOperationException($"lock {lockKey.Value} is not held");
                return Unlocked(lockKey.Value, removed.Holder.RunId, removed.Holder.Actor, removed.FencingToken);
            }
        }));
        return command;
    }

    private static int Unlocked(string key, string runId, string holder, long fencingToken)
    {
        Console.Out.WriteLine($"unlocked {key} (was held by run {runId}, {holder}, token {fencingToken}); run {runId} is marked NeedsReconciliation");
        return 0;
    }

    // Members of the locks.admins teams of the airlock.yaml beside the store (the current directory, as for the store);
    // an invalid file is refused rather than read as "no administrators".
    private static System.Collections.Immutable.ImmutableArray<string> WorkspaceAdministrators()
    {
        var path = Path.Combine(Environment.CurrentDirectory, "airlock.yaml");
        if (!File.Exists(path))
        {
            return [];
        }

        var loaded = WorkspaceConfigLoader.Load(File.ReadAllText(path), path);
        if (!loaded.IsValid)
        {
            var first = loaded.Diagnostics[0];
            throw new InvalidOperationException($"{first.File}:{first.Line}:{first.Column}: {first.Message}");
        }

        return loaded.Config!.LockAdministrators();
    }
}
