using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>Signals go to the child's whole process group (its pid), so a shell's children get them too.</summary>
internal static class ProcessSignals
{
    public static void SendToGroup(int pid, int signal)
    {
        // The child may have moved itself to another group (a job-control shell); then reach at least the child.
        if (LibC.Kill(-pid, signal) != 0 && Errno.Last == Errno.ESRCH)
        {
            LibC.Kill(pid, signal);
        }
    }
}
