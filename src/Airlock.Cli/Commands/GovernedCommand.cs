using System.CommandLine;
using System.Data.Common;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Application;
using Airlock.Application.Identity;
using Airlock.Application.Plans;
using Airlock.Application.Source;
using Airlock.Application.Workspace;
using Airlock.Domain.Evidence;
using Airlock.Domain.Failures;
using Airlock.Domain.Plans;
using Airlock.Domain.Storage;
using Airlock.Store;
using Airlock.Store.Keys;
using Airlock.Store.Sql;

namespace Airlock.Cli.Commands;

/// <summary>
/// What the governed commands (plan, approve, apply, runs, freeze…) share: the workspace found from the
/// current directory, its store, the evidence signer, the acting identity, and one mapping from errors to
/// exit codes — 2 bad input, 3 refused before anything changed, 1 failed after starting.
/// </summary>
internal static class GovernedCommand
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Option<string?> AsOption() => new("--as")
    {
        Description = $"Act as this person (default: ${ActorResolver.ActorVariable}, else git config user.email).",
    };

    /// <summary>The acting identity: --as, AIRLOCK_ACTOR, or git user.email.</summary>
    public static string Actor(string? asOption) =>
        ActorResolver.Resolve(asOption, Environment.GetEnvironmentVariable, () => GitRepository.UserEmail(Environment.CurrentDirectory));

    /// <summary>Opens workspace, store and signer, runs <paramref name="body"/>, and maps expected errors to one line and an exit code.</summary>
    public static async Task<int> RunAsync(string? databaseUrl, Func<AirlockServices, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            await using var session = await WorkspaceSession.OpenAsync(Environment.CurrentDirectory, databaseUrl, Environment.GetEnvironmentVariable, TimeProvider.System, cancellationToken);
            return await body(session.Services);
        }
        catch (UserInputException e)
        {
            return Fail(ExitCodes.BadInput, e.Message);
        }
        catch (PlanKeyMissingException e)
        {
            return Fail(ExitCodes.BadInput, e.Message);
        }
        catch (RefusedException e)
        {
            return Fail(ExitCodes.Refused, "refused: " + e.Message);
        }
        catch (EngineFailedException e)
        {
            return Fail(ExitCodes.Failed, $"failed ({e.Verdict.Class.ToWireName()}): {e.Verdict.Statement}");
        }
        catch (PlanParseException e)
        {
            return Fail(ExitCodes.Failed, "the engine's plan JSON could not be read: " + e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Fail(ExitCodes.Cancelled, "cancelled");
        }
        catch (Exception e) when (e is DbException or SchemaTooNewException or IOException or UnauthorizedAccessException or PlanArtifactException or FreezeAlreadyActiveException or FormatException or ArgumentException)
        {
            return Fail(ExitCodes.Failed, e.Message);
        }
    }

    public static int Fail(int code, string message)
    {
        Console.Error.WriteLine("airlock: " + message.ReplaceLineEndings(" ").Trim());
        return code;
    }

    public static void WriteJson(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Json));
}

/// <summary>
/// Ctrl+C / SIGTERM become a cancellation request instead of killing Airlock, so a running engine gets
/// SIGINT, its grace period, and only then a kill — and the run still records how it ended.
/// </summary>
internal sealed class GracefulCancellation : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public GracefulCancellation(CancellationToken outer)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _source.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (!_source.IsCancellationRequested)
        {
            Console.Error.WriteLine("airlock: cancelling: the engine is asked to stop gracefully; the run records how it ended");
            _source.Cancel();
        }
        else
        {
            Console.Error.WriteLine("airlock: already cancelling; waiting for the engine to stop (it is killed after its grace period)");
        }
    }
}
