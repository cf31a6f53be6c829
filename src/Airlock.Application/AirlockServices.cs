using Airlock.Application.Engines;
using Airlock.Application.Policy;
using Airlock.Application.Source;
using Airlock.Application.Verification;
using Airlock.Application.Workspace;
using Airlock.Domain.Evidence;
using Airlock.Domain.Storage;
using Airlock.Engines.Processes;
using Airlock.Policy;

namespace Airlock.Application;

/// <summary>
/// Everything the governed commands share for one workspace: config, store, clock, git, engines,
/// policy and the evidence log. Hosts (CLI, server) build one and hand it to the services.
/// </summary>
public sealed class AirlockServices
{
    /// <summary>Composes the services over an open store.</summary>
    public AirlockServices(AirlockWorkspace workspace, IAirlockStore store, ICheckpointSigner signer, TimeProvider time, IProcessRunner? processes = null)
    {
        Workspace = workspace;
        Store = store;
        _signer = signer;
        Time = time;
        Processes = processes ?? new ProcessRunner(time);
        Git = new GitRepository(workspace.Root);
        Engines = new EngineFactory(workspace, Processes);
        Policy = new PolicyEvaluator(workspace, new JavaScriptRuleRunner());
        Evidence = new EvidenceLog(store.Evidence, signer, time);
        Verification = new VerificationRunner(time, Processes);
        Inputs = new Plans.StackInputs(this);
    }

    private readonly ICheckpointSigner _signer;

    /// <summary>The same store, signer, clock and process runner over another source tree of this workspace (a revert worktree).</summary>
    public AirlockServices ForSourceTree(string sourceRoot) =>
        new(Workspace.AtSourceTree(sourceRoot), Store, _signer, Time, Processes);

    /// <summary>The workspace and its config.</summary>
    public AirlockWorkspace Workspace { get; }

    /// <summary>The store (SQLite or PostgreSQL).</summary>
    public IAirlockStore Store { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Runs tools and checks.</summary>
    public IProcessRunner Processes { get; }

    /// <summary>The workspace's git repository.</summary>
    public GitRepository Git { get; }

    /// <summary>Engine adapters per stack.</summary>
    public EngineFactory Engines { get; }

    /// <summary>Built-in and custom policy.</summary>
    public PolicyEvaluator Policy { get; }

    /// <summary>The chained, signed evidence log.</summary>
    public EvidenceLog Evidence { get; }

    /// <summary>Post-apply checks.</summary>
    public VerificationRunner Verification { get; }

    /// <summary>Output passing: upstream stacks' outputs as a stack's inputs.</summary>
    public Plans.StackInputs Inputs { get; }

    /// <summary>A new id with a readable prefix, e.g. plan-3f2a9c1b7d.</summary>
    public static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];
}
