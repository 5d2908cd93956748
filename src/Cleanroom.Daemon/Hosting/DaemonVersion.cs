using System.Reflection;

namespace Cleanroom.Daemon.Hosting;

/// <summary>The version this build reports (informational version from the assembly, without build metadata).</summary>
public static class DaemonVersion
{
    public static string Current { get; } =
        typeof(DaemonVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
