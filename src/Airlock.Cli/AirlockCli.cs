using System.CommandLine;
using Airlock.Cli.Commands;

namespace Airlock.Cli;

/// <summary>The `airlock` command tree. Each command lives in Commands/ and only parses, calls the core and renders.</summary>
public static class AirlockCli
{
    /// <summary>Builds the root command with every subcommand registered.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("Airlock: governed infrastructure-as-code changes and the deployments that depend on them.");
        foreach (var command in Commands())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>Parses and runs; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parseResult = Build().Parse(args);
        // Commands that run tools handle Ctrl+C themselves (GracefulCancellation): a running engine must get
        // its grace period, never be abandoned after System.CommandLine's default 2 seconds.
        return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    // One line per command, kept alphabetical, so parallel work merges cleanly.
    private static IEnumerable<Command> Commands() =>
    [
        ApplyCommand.Create(),
        ApprovalsCommand.Create(),
        ApproveCommand.Create(),
        CancelCommand.Create(),
        CompareCommand.Create(),
        DemoCommand.Create(),
        DocsCommand.Create(),
        EvidenceCommand.Create(),
        FreezeCommand.Create(),
        GraphCommand.Create(),
        LocksCommand.Create(),
        PlanCommand.Create(),
        PolicyCommand.Create(),
        QueueCommand.Create(),
        ReleaseCommand.Create(),
        ReleaseCommand.CreateList(),
        RunsCommand.CreateRun(),
        RunsCommand.Create(),
        SchemaCommand.Create(),
        ServeCommand.Create(),
        SummarizeCommand.Create(),
        TokenCommand.Create(),
        TraceCommand.Create(),
        UnlockCommand.Create(),
        ValidateCommand.Create(),
        VersionCommand.Create(),
    ];
}
