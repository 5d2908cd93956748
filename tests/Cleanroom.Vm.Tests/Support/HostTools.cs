using Cleanroom.HostProcesses;
using Cleanroom.Vm.Qemu;

namespace Cleanroom.Vm.Tests.Support;

/// <summary>What this host offers the real-QEMU tests, looked up once.</summary>
internal static class HostTools
{
    private static readonly Lazy<string?> Qemu = new(() => Try(QemuBinary.Locate));
    private static readonly Lazy<string?> QemuImg = new(() => Try(() => QemuBinary.LocateImg()));

    public static string? QemuPath => Qemu.Value;

    public static string? QemuImgPath => QemuImg.Value;

    public static bool HasQemu => QemuPath is not null && QemuImgPath is not null;

    private static string? Try(Func<string> locate)
    {
        try
        {
            return locate();
        }
        catch (VmException)
        {
            return null;
        }
    }

    /// <summary>Runs a host tool and returns its exit code and output, whatever the exit code.</summary>
    public static Task<HostCommandResult> TryRunAsync(string file, params string[] args) =>
        HostCommand.TryRunAsync(ExecutableSearch.FindOnPath(file, "/usr/sbin:/usr/bin:/sbin:/bin") ?? file, args, TimeSpan.FromSeconds(30), CancellationToken.None);

    /// <summary>Runs a host tool for test set-up.</summary>
    public static Task<HostCommandResult> RunAsync(string file, params string[] args) =>
        HostCommand.RunAsync(file, args, TimeSpan.FromSeconds(30), CancellationToken.None);
}
