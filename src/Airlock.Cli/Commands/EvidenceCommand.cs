using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

using Airlock.Application;
using Airlock.Domain.Evidence;
using Airlock.Store;
using Airlock.Store.Keys;
using Airlock.Store.Sql;

namespace Airlock.Cli.Commands;

/// <summary>`airlock evidence …`: the tamper-evident evidence log (list, show, verify, export, queries, keys).</summary>
internal static class EvidenceCommand
{
    public static Command Create()
    {
        var command = new Command("evidence", "Inspect, verify and export the tamper-evident evidence log.");
        command.Subcommands.Add(EvidenceListCommand.Create());
        command.Subcommands.Add(EvidenceShowCommand.Create());
        command.Subcommands.Add(EvidenceVerifyCommand.Create());
        command.Subcommands.Add(EvidenceExportCommand.Create());
        command.Subcommands.Add(EvidenceQueryCommands.CreateFailures());
        command.Subcommands.Add(EvidenceQueryCommands.CreateVersions());
        command.Subcommands.Add(EvidenceKeyCommands.CreatePublicKey());
        command.Subcommands.Add(EvidenceKeyCommands.CreateRotateKey());
        command.Subcommands.Add(EvidenceKeyCommands.CreateSchema());
        return command;
    }
}

/// <summary>
/// Where the CLI's evidence lives: the store (the workspace's SQLite file .airlock/airlock.db, or PostgreSQL via
/// --database / AIRLOCK_DATABASE_URL), signed with the key files in .airlock/keys/ (or AIRLOCK_EVIDENCE_KEY).
/// </summary>
internal static class EvidenceWorkspace
{
    /// <summary>Environment variable naming a configured private key file (instead of the generated one).</summary>
    public const string KeyVariable = WorkspaceSession.EvidenceKeyVariable;

    public static string Root => Environment.CurrentDirectory;

    /// <summary>Opens the store, or null when the workspace has none yet (looking must not create one).</summary>
    public static Task<SqlAirlockStore?> OpenStoreAsync(string? databaseUrl, CancellationToken cancellationToken) =>
        StoreCommandSupport.OpenExistingAsync(databaseUrl, cancellationToken);

    /// <summary>Names the store for messages; never the connection string, which may hold a password.</summary>
    public static string Describe(string? databaseUrl) =>
        string.IsNullOrWhiteSpace(databaseUrl ?? Environment.GetEnvironmentVariable(AirlockStores.DatabaseUrlVariable))
            ? Path.Combine(".airlock", "airlock.db")
            : "the PostgreSQL database";

    /// <summary>Runs <paramref name="use"/> over every record of the store; over no records when there is no store.</summary>
    public static async Task<T> WithRecordsAsync<T>(string? databaseUrl, Func<IAsyncEnumerable<ChainRecord>, Task<T>> use, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(use);
        var store = await OpenStoreAsync(databaseUrl, cancellationToken);
        if (store is null)
        {
            return await use(NoRecords());
        }

        await using (store)
        {
            return await use(store.Evidence.ReadAsync(1, cancellationToken));
        }
    }

    private static async IAsyncEnumerable<ChainRecord> NoRecords()
    {
        await Task.CompletedTask;
        yield break;
    }

    public static EvidenceKeyStore Keys => new(Path.Combine(Root, ".airlock", "keys"));

    public static EcdsaCheckpointSigner LoadSigner() =>
        Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } configured
            ? EvidenceKeyStore.LoadSigner(configured)
            : Keys.LoadOrCreateSigner();

    /// <summary>The keys this installation trusts; never creates a key (verification must not write).</summary>
    public static EvidenceKeyring LoadKeyring()
    {
        var keyring = new EvidenceKeyring();
        if (File.Exists(Keys.KeyringPath))
        {
            keyring.AddPem(File.ReadAllText(Keys.KeyringPath));
        }

        if (Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } configured)
        {
            using var signer = EvidenceKeyStore.LoadSigner(configured);
            keyring.AddPem(signer.ExportPublicKeyPem());
        }

        return keyring;
    }
}

/// <summary>Shared parsing and error handling so every evidence command fails with one line and a non-zero exit.</summary>
internal static class EvidenceCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int UsageError = 2;

    public static JsonSerializerOptions Json { get; } = new(EvidenceJson.Options) { WriteIndented = false };

    public static Option<bool> JsonOption() => StoreCommandSupport.JsonOption();

    public static Option<string?> DatabaseOption() => StoreCommandSupport.DatabaseOption();

    public static Option<string?> SinceOption(string description) => new("--since") { Description = description };

    public static Option<string?> ServerOption() => Airlock.Cli.Client.ServerClient.ServerOption();

    /// <summary>
    /// Runs <paramref name="use"/> over every evidence record: the server's (GET /api/evidence, with --server) or the
    /// local store's; over no records when there is no local store.
    /// </summary>
    public static async Task<T> WithRecordsAsync<T>(string? databaseUrl, string? serverUrl, Func<IAsyncEnumerable<ChainRecord>, Task<T>> use, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(use);
        if (serverUrl is null)
        {
            return await EvidenceWorkspace.WithRecordsAsync(databaseUrl, use, cancellationToken);
        }

        if (databaseUrl is not null)
        {
            throw new ArgumentException("--database does not apply with --server; the server reads its own store");
        }

        using var client = Airlock.Cli.Client.ServerClient.FromEnvironment(serverUrl);
        return await use(client.EvidenceRecordsAsync(cancellationToken));
    }

    /// <summary>Runs <paramref name="action"/>, turning expected failures into one stderr line.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Airlock.Cli.Client.ServerException ex)
        {
            return GovernedCommand.Fail(ex.ExitCode, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidDataException or CryptographicException or ArgumentException or JsonException or TimeoutException or DbException or SchemaTooNewException)
        {
            await Console.Error.WriteLineAsync("airlock: " + OneLine(ex.Message));
            return UsageError;
        }
    }

    /// <summary>Parses --since: an ISO 8601 date/time, or a duration back from now like "90m", "12h", "7d".</summary>
    public static DateTimeOffset? ParseSince(string? text, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var unit = text[^1];
        if (unit is 'm' or 'h' or 'd' && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            var span = unit switch { 'm' => TimeSpan.FromMinutes(amount), 'h' => TimeSpan.FromHours(amount), _ => TimeSpan.FromDays(amount) };
            return time.GetUtcNow() - span;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }

        throw new FormatException($"--since \"{text}\" is neither an ISO 8601 time nor a duration like 12h or 7d");
    }

    public static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
