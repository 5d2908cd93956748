using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Qemu;

/// <summary>Finds the QEMU executables and asks them what they are. Environment variables override PATH.</summary>
public static class QemuBinary
{
    public const string SystemName = "qemu-system-x86_64";
    public const string ImgName = "qemu-img";
    public const string SystemOverrideVariable = "CLEANROOM_QEMU";
    public const string ImgOverrideVariable = "CLEANROOM_QEMU_IMG";

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Path of qemu-system-x86_64: $CLEANROOM_QEMU if set, else PATH. Throws <see cref="VmException"/> if absent.</summary>
    public static string Locate() => Locate(Environment.GetEnvironmentVariable);

    /// <summary>
    /// Path of qemu-img: $CLEANROOM_QEMU_IMG if set, else next to <paramref name="qemuPath"/> (so an override of the
    /// system binary brings its matching qemu-img), else PATH.
    /// </summary>
    public static string LocateImg(string? qemuPath = null) => LocateImg(qemuPath, Environment.GetEnvironmentVariable);

    internal static string Locate(Func<string, string?> getEnv) =>
        Resolve(SystemName, SystemOverrideVariable, sibling: null, getEnv, "install the qemu-system-x86 package");

    internal static string LocateImg(string? qemuPath, Func<string, string?> getEnv)
    {
        var sibling = qemuPath is null ? null : Path.Combine(Path.GetDirectoryName(qemuPath) ?? "/", ImgName);
        return Resolve(ImgName, ImgOverrideVariable, sibling, getEnv, "install the qemu-utils package");
    }

    /// <summary>The version line without the "… version" prefix, e.g. "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)".</summary>
    public static async Task<string> GetVersionAsync(string path, CancellationToken ct)
    {
        var result = await HostCommand.RunAsync(path, ["--version"], QueryTimeout, ct);
        return ParseVersion(result.Stdout)
            ?? throw new VmException($"`{path} --version` printed no version line: {TextSanitizer.ToPrintable(result.Stdout).Trim()}");
    }

    /// <summary>Accelerators compiled into the binary ("tcg", "kvm", …), from <c>-accel help</c>.</summary>
    public static async Task<IReadOnlyList<string>> GetAcceleratorsAsync(string path, CancellationToken ct)
    {
        var result = await HostCommand.RunAsync(path, ["-accel", "help"], QueryTimeout, ct);
        return ParseAccelerators(result.Stdout);
    }

    internal static string? ParseVersion(string output)
    {
        const string marker = "version ";
        var line = output.Split('\n').FirstOrDefault(l => l.Contains(marker, StringComparison.Ordinal));
        return line is null ? null : line[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim();
    }

    internal static IReadOnlyList<string> ParseAccelerators(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.Contains(' ', StringComparison.Ordinal) && !l.EndsWith(':'))
            .ToList();

    private static string Resolve(string name, string variable, string? sibling, Func<string, string?> getEnv, string installHint)
    {
        var overridePath = getEnv(variable);
        if (!string.IsNullOrEmpty(overridePath))
        {
            return ExecutableSearch.IsExecutable(overridePath)
                ? Path.GetFullPath(overridePath)
                : throw new VmException($"${variable} is set to '{overridePath}', which is not an executable file.");
        }

        if (sibling is not null && ExecutableSearch.IsExecutable(sibling))
        {
            return sibling;
        }

        return ExecutableSearch.FindOnPath(name, getEnv("PATH"))
            ?? throw new VmException($"{name} was not found on PATH; {installHint} or set ${variable}.");
    }
}
