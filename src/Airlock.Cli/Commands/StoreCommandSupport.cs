using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;

using Airlock.Application.Views;
using Airlock.Domain.Storage;
using Airlock.Store;
using Airlock.Store.Sql;

namespace Airlock.Cli.Commands;

/// <summary>What the store commands share: where the store is, how errors become one line, JSON settings.</summary>
internal static class StoreCommandSupport
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Option<string?> DatabaseOption() => new("--database")
    {
        Description = $"PostgreSQL connection string (default: ${AirlockStores.DatabaseUrlVariable}, else the workspace's .airlock/airlock.db)",
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Machine-readable JSON on stdout." };

    /// <summary>
    /// Opens the store, or returns null when the workspace has no SQLite store yet (nothing to show, and
    /// looking must not create one).
    /// </summary>
    public static async Task<SqlAirlockStore?> OpenExistingAsync(string? databaseUrl, CancellationToken cancellationToken)
    {
        var workingDirectory = Environment.CurrentDirectory;
        var url = databaseUrl ?? Environment.GetEnvironmentVariable(AirlockStores.DatabaseUrlVariable);
        if (string.IsNullOrWhiteSpace(url) && !File.Exists(AirlockStores.WorkspaceDatabasePath(workingDirectory)))
        {
            return null;
        }

        return await AirlockStores.OpenForCommandAsync(workingDirectory, databaseUrl, Environment.GetEnvironmentVariable, new StoreOptions(), cancellationToken);
    }

    /// <summary>Runs <paramref name="body"/>, turning expected failures into one stderr line and exit code 1.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception error) when (error is PlanKeyMissingException or FormatException or ArgumentException or UnauthorizedAccessException or SchemaTooNewException or DbException or InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync("airlock: " + OneLine(error.Message));
            return 1;
        }
    }

    public static string Age(TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        span = span.Duration();
        var text = span.TotalDays >= 1 ? $"{(int)span.TotalDays}d{span.Hours}h"
            : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes}m"
            : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds}s"
            : $"{(int)span.TotalSeconds}s";
        return negative ? "-" + text : text;
    }

    public static string Instant(DateTimeOffset instant) => JsonViews.Instant(instant);

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
