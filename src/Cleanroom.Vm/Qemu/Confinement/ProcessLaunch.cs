namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// Exactly how a process is started: the executable, its arguments and its entire environment (nothing is
/// inherited from the daemon).
/// </summary>
internal sealed record ProcessLaunch(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>
    /// The environment of everything the backend starts on QEMU's behalf: a fixed PATH for the launcher's tools
    /// and the C locale. None of the daemon's variables (credentials, tokens, sockets) reach a VMM.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ScrubbedEnvironment = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin",
        ["LANG"] = "C",
    };

    public string? WorkingDirectory { get; init; }

    /// <summary>Descriptors the process inherits under the same numbers (a VM's TAP device).</summary>
    public IReadOnlyList<System.Runtime.InteropServices.SafeHandle> InheritedHandles { get; init; } = [];
}
