// Usage: dotnet run -c Release --project bench/Airlock.Bench -- <suite> [options]
// Each suite prints its figures; docs/benchmarks.md records the numbers measured on the CI machine.
var suites = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
{
    // One line per suite, kept alphabetical, so parallel work merges cleanly.
    ["dag"] = DagBench.RunAsync,
    ["evidence"] = EvidenceBench.RunAsync,
    ["store"] = StoreBench.RunAsync,
    ["plans"] = Airlock.Bench.PlanBench.RunAsync,
    ["server"] = ServerBench.RunAsync,
};

if (args.Length == 0 || !suites.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Airlock.Bench <{string.Join('|', suites.Keys.Order(StringComparer.Ordinal))}> [options]");
    return 2;
}

return await run(args[1..]);
