using System.CommandLine;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Tokens;
using Airlock.Domain.Config;
using Airlock.Domain.Storage;

namespace Airlock.Cli.Commands;

/// <summary>
/// `airlock token create|list|revoke`: API tokens for `airlock serve`, managed by whoever has the store (the
/// workspace's SQLite file or the PostgreSQL database). The secret is printed once and stored only as a hash.
/// </summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var command = new Command("token", "API tokens of the server: each acts as one actor (approver, requester), never as a field in a request.");
        command.Subcommands.Add(CreateToken());
        command.Subcommands.Add(ListTokens());
        command.Subcommands.Add(RevokeToken());
        return command;
    }

    private static Command CreateToken()
    {
        var actor = new Option<string>("--actor") { Description = "The identity the token acts as, e.g. alice@example.com.", Required = true };
        var teams = new Option<string?>("--teams") { Description = "Comma-separated teams the token is for (recorded; team rights come from airlock.yaml)." };
        var expiresIn = new Option<string?>("--expires-in") { Description = "Validity, e.g. 90d or 12h (default: no expiry)." };
        var createdBy = GovernedCommand.AsOption();
        var database = StoreCommandSupport.DatabaseOption();
        var json = StoreCommandSupport.JsonOption();
        var command = new Command("create", "Create a token and print its secret (shown once: store it in a secret manager or AIRLOCK_TOKEN).");
        command.Options.Add(actor);
        command.Options.Add(teams);
        command.Options.Add(expiresIn);
        command.Options.Add(createdBy);
        command.Options.Add(database);
        command.Options.Add(json);
        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(database), async services =>
        {
            TimeSpan? validFor = null;
            if (parseResult.GetValue(expiresIn) is { } text)
            {
                validFor = Durations.TryParse(text, out var span, out var reason) ? span : throw new UserInputException($"--expires-in: {reason}");
            }

            var teamList = (parseResult.GetValue(teams) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var tokens = new TokenService(services.Store.Tokens, services.Time, services.Evidence);
            var created = await tokens.CreateAsync(parseResult.GetValue(actor)!, teamList, GovernedCommand.Actor(parseResult.GetValue(createdBy)), validFor, cancellationToken);
            if (parseResult.GetValue(json))
            {
                var node = ToJson(created.Token);
                node["secret"] = created.Secret;
                GovernedCommand.WriteJson(node);
            }
            else
            {
                Console.Out.WriteLine(created.Secret);
                Console.Error.WriteLine($"created {created.Token.Id} for {created.Token.Actor}{(created.Token.ExpiresAt is { } e ? $", expires {StoreCommandSupport.Instant(e)}" : string.Empty)}: the secret above is shown only once");
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command ListTokens()
    {
        var database = StoreCommandSupport.DatabaseOption();
        var json = StoreCommandSupport.JsonOption();
        var command = new Command("list", "Tokens with actor, teams, creation, expiry, last use and revocation (never the secrets).");
        command.Options.Add(database);
        command.Options.Add(json);
        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(database), async services =>
        {
            var tokens = await new TokenService(services.Store.Tokens, services.Time, services.Evidence).ListAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                GovernedCommand.WriteJson(new JsonArray([.. tokens.Select(ToJson)]));
                return 0;
            }

            var now = services.Time.GetUtcNow();
            foreach (var token in tokens)
            {
                var status = token.RevokedAt is { } r ? $"revoked {StoreCommandSupport.Instant(r)} by {token.RevokedBy}"
                    : token.IsUsableAt(now) ? "active" : "expired";
                var used = token.LastUsedAt is { } u ? StoreCommandSupport.Instant(u) : "never used";
                Console.Out.WriteLine($"{token.Id}  {token.Actor}  teams={string.Join(',', token.Teams)}  {status}  {used}");
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command RevokeToken()
    {
        var id = new Argument<string>("ID") { Description = "The token id (tok-…) from `airlock token list`." };
        var revokedBy = GovernedCommand.AsOption();
        var database = StoreCommandSupport.DatabaseOption();
        var command = new Command("revoke", "Revoke a token: it stops authenticating at once, on every replica.");
        command.Arguments.Add(id);
        command.Options.Add(revokedBy);
        command.Options.Add(database);
        command.SetAction((parseResult, cancellationToken) => GovernedCommand.RunAsync(parseResult.GetValue(database), async services =>
        {
            var tokenId = parseResult.GetValue(id)!;
            await new TokenService(services.Store.Tokens, services.Time, services.Evidence).RevokeAsync(tokenId, GovernedCommand.Actor(parseResult.GetValue(revokedBy)), cancellationToken);
            Console.Out.WriteLine($"revoked {tokenId}");
            return 0;
        }, cancellationToken));
        return command;
    }

    private static JsonObject ToJson(ApiTokenRecord token) => new()
    {
        ["id"] = token.Id,
        ["actor"] = token.Actor,
        ["teams"] = new JsonArray([.. token.Teams.Select(t => (JsonNode)t)]),
        ["created_by"] = token.CreatedBy,
        ["created_at"] = StoreCommandSupport.Instant(token.CreatedAt),
        ["expires_at"] = token.ExpiresAt is { } e ? StoreCommandSupport.Instant(e) : null,
        ["revoked_at"] = token.RevokedAt is { } r ? StoreCommandSupport.Instant(r) : null,
        ["last_used_at"] = token.LastUsedAt is { } u ? StoreCommandSupport.Instant(u) : null,
    };
}
