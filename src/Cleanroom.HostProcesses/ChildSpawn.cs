using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cleanroom.HostProcesses;

/// <summary>
/// Starts child processes so that a descriptor meant for one child (a VM's TAP device) reaches that child and no
/// other. .NET opens everything close-on-exec and its fork does not close other descriptors, so a descriptor made
/// inheritable is inherited by every child started while it is. Every spawn in the daemon goes through this one lock,
/// and a descriptor is inheritable only inside it, for exactly one <see cref="Process.Start()"/>.
/// </summary>
public static partial class ChildSpawn
{
    private const int GetDescriptorFlags = 1; // F_GETFD
    private const int SetDescriptorFlags = 2; // F_SETFD
    private const int CloseOnExec = 1;        // FD_CLOEXEC

    private static readonly Lock Gate = new();

    /// <summary>Starts <paramref name="process"/>; no descriptor is passed beyond its standard streams.</summary>
    public static void Start(Process process) => Start(process, []);

    /// <summary>
    /// Starts <paramref name="process"/> with <paramref name="inherited"/> open in it under the same numbers
    /// (<see cref="SafeHandle.DangerousGetHandle"/>). Process.Start returns after the child has exec'd, so once the
    /// flags are restored no later child can see them.
    /// </summary>
    public static void Start(Process process, IReadOnlyList<SafeHandle> inherited)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(inherited);
        lock (Gate)
        {
            var cleared = new List<int>(inherited.Count);
            try
            {
                foreach (var handle in inherited)
                {
                    var fd = (int)handle.DangerousGetHandle();
                    SetCloseOnExec(fd, false);
                    cleared.Add(fd);
                }

                process.Start();
            }
            finally
            {
                foreach (var fd in cleared)
                {
                    SetCloseOnExec(fd, true);
                }
            }
        }
    }

    private static void SetCloseOnExec(int fd, bool closeOnExec)
    {
        var flags = Fcntl(fd, GetDescriptorFlags, 0);
        if (flags < 0 || Fcntl(fd, SetDescriptorFlags, closeOnExec ? flags | CloseOnExec : flags & ~CloseOnExec) < 0)
        {
            throw new IOException($"fcntl on descriptor {fd} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
