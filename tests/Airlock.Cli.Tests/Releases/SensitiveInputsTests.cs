using System.Text.Json.Nodes;

using Airlock.Testing;

namespace Airlock.Cli.Tests.Releases;

/// <summary>
/// A sensitive upstream output (OpenTofu, through the tofu TEST DOUBLE) passed to a command-engine stack:
/// the downstream program receives the value, while Airlock's output, store and evidence never hold it.
/// </summary>
public sealed class SensitiveInputsTests : IDisposable
{
    private const string Secret = "s3cr3t-from-network-42";

    private const string Config = """
        teams:
          platform: [alice@example.com]
        environments:
          dev:
            approvals: { required: 0 }
            plan: { mode: saved, max_age: 1h }
        stacks:
          network:
            path: stacks/network
            owners: [platform]
          database:
            engine: command
            path: stacks/database
            owners: [platform]
            depends_on: [network]
            inputs: { db_password: network.foo, settings: network.map }
            command: { plan: ./plan.sh, apply: ./apply.sh }
        """;

    private readonly TempDir _dir = new("airlock-sensitive-inputs");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_sensitive_upstream_output_reaches_the_program_but_is_redacted_from_output_and_never_stored()
    {
        // The captured state's sensitive output "foo", given a value that cannot occur by chance.
        var state = JsonNode.Parse(File.ReadAllText(RepoPaths.Fixture("state", "tfjson-110-sensitive-attributes.tfstate")))!;
        state["outputs"]!["foo"]!["value"] = Secret;
        var stateFile = _dir.File("state.tfstate");
        File.WriteAllText(stateFile, state.ToJsonString());
        using var ws = await TofuWorkspace.CreateAsync("sqlite", Config, stateFile, []);
        var received = Path.Combine(ws.DoubleDirectory, "received-inputs.json");
        var database = Directory.CreateDirectory(Path.Combine(ws.Root, "stacks", "database")).FullName;
        WriteScript(Path.Combine(database, "plan.sh"), $"""
            printf '%s' "$AIRLOCK_INPUTS" > '{received}'
            echo "planning with $AIRLOCK_INPUTS"
            printf '{"{"}"format_version":"1.2","resource_changes":[]{"}"}\n' > "$AIRLOCK_PLAN_JSON"
            """);
        WriteScript(Path.Combine(database, "apply.sh"), "echo applied");
        await ws.CommitChangeAsync("database stack");

        var plan = await ws.RunAsync("plan", "database", "--env", "dev", "--as", "alice@example.com");

        Assert.True(plan.ExitCode == 0, plan.ToString());
        var inputs = JsonNode.Parse(File.ReadAllText(received))!;
        Assert.Equal(Secret, (string?)inputs["db_password"]);
        Assert.Equal(42, (int?)inputs["settings"]!["number"]);
        Assert.Contains("planning with {\"db_password\":\"[REDACTED]\"", plan.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, plan.Stdout + plan.Stderr, StringComparison.Ordinal);
        Assert.Contains("db_password ← network.foo", plan.Stdout, StringComparison.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(ws.Root, ".airlock"), "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(Secret, File.ReadAllText(file), StringComparison.Ordinal);
        }

        var evidence = await ws.RunAsync("evidence", "export");
        Assert.DoesNotContain(Secret, evidence.Stdout, StringComparison.Ordinal);
    }

    private static void WriteScript(string path, string body)
    {
        File.WriteAllText(path, "#!/bin/sh\nset -e\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
