using System.CommandLine;
using System.Reflection;

namespace Airlock.Cli.Commands;

/// <summary>`airlock version`: prints the tool version.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Airlock version.");
        command.SetAction(_ =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            Console.Out.WriteLine($"airlock {version}");
            return 0;
        });
        return command;
    }
}
