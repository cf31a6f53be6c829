using Airlock.Domain.Config;

namespace Airlock.Domain.Releases;

/// <summary>What a new release is asked to do.</summary>
/// <param name="Version">Application version shipped.</param>
/// <param name="Commit">The commit.</param>
/// <param name="InfraVersion">Tag or short hash of the commit.</param>
/// <param name="Actor">Who starts it.</param>
/// <param name="Through">Last environment to reach, or null for the whole chain.</param>
/// <param name="Stacks">The stacks that run (changed and their dependants, or all) with reasons.</param>
public sealed record ReleaseSpec(string Version, string Commit, string InfraVersion, string Actor, string? Through, IReadOnlyList<StackReason> Stacks);

/// <summary>Lays out a release: environments in promotion order, waves, and per region the stacks and applications.</summary>
public static class ReleaseLayout
{
    /// <summary>
    /// The environments a release walks: the promotion chain (dev → stage → prod) up to and including
    /// <paramref name="through"/>. An environment outside the chain is only reached when it is the one named.
    /// </summary>
    /// <exception cref="ArgumentException">The named environment does not exist.</exception>
    public static IReadOnlyList<EnvironmentConfig> Environments(WorkspaceConfig config, string? through)
    {
        ArgumentNullException.ThrowIfNull(config);
        var ordered = config.EnvironmentsInPromotionOrder();
        var chain = new List<EnvironmentConfig>();
        var first = ordered.FirstOrDefault();
        for (var current = first; current is not null && !chain.Contains(current); current = current.Promotion?.Next is { } next ? config.FindEnvironment(next) : null)
        {
            chain.Add(current);
        }

        if (through is null)
        {
            return chain;
        }

        var target = config.FindEnvironment(through) ?? throw new ArgumentException($"unknown environment '{through}' (known: {string.Join(", ", config.Environments.Select(e => e.Name))})");
        var index = chain.IndexOf(target);
        return index >= 0 ? chain[..(index + 1)] : [target];
    }

    /// <summary>A fresh release: every environment pending, stacks and applications laid out per wave and region.</summary>
    public static ReleaseProgress Create(WorkspaceConfig config, ReleaseSpec spec)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(spec);
        var progress = new ReleaseProgress
        {
            Version = spec.Version,
            Commit = spec.Commit,
            InfraVersion = spec.InfraVersion,
            Actor = spec.Actor,
            Through = spec.Through,
            Stacks = [.. spec.Stacks],
        };
        var running = spec.Stacks.Select(s => s.Stack).ToHashSet(StringComparer.Ordinal);
        foreach (var environment in Environments(config, spec.Through))
        {
            var stacks = config.StacksEnabledIn(environment.Name).Where(s => running.Contains(s.Name)).ToList();
            var env = new EnvironmentProgress { Name = environment.Name };
            var waves = environment.Waves.IsEmpty
                ? [new Wave(environment.Name, [environment.Region!], TimeSpan.Zero, 1)]
                : environment.Waves;
            foreach (var wave in waves)
            {
                var progressWave = new WaveProgress { Name = wave.Name, Regions = [.. wave.Regions], MaxParallel = Math.Max(1, wave.MaxParallel), Bake = wave.Bake };
                foreach (var region in wave.Regions)
                {
                    foreach (var stack in stacks)
                    {
                        // Without waves a stack keeps its own region; with waves the wave decides.
                        var targetRegion = environment.Waves.IsEmpty ? stack.Region ?? environment.Region : region;
                        progressWave.Targets.Add(new TargetProgress { Stack = stack.Name, Region = targetRegion });
                    }

                    foreach (var app in config.Applications)
                    {
                        progressWave.Apps.Add(new AppProgress { App = app.Name, Region = environment.Waves.IsEmpty ? environment.Region : region });
                    }
                }

                env.Waves.Add(progressWave);
            }

            progress.Environments.Add(env);
        }

        return progress;
    }
}
