namespace Cleanroom.Network.Nflog;

/// <summary>Whether NFLOG can be used here, for a doctor-style check. Changes nothing on the host.</summary>
/// <param name="Usable">The kernel has nfnetlink_log and this process may use it.</param>
/// <param name="GroupInUse">Another socket (e.g. a running daemon) has bound the group; meaningful when usable.</param>
/// <param name="Detail">One sentence for the user: what works, or what is wrong and how to fix it.</param>
public sealed record NflogProbeResult(bool Usable, bool GroupInUse, string Detail);

/// <summary>Checks NFLOG without binding anything: permission and module first, then whether a group is free.</summary>
public static class NflogProbe
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Asks the kernel whether this process can read NFLOG group <paramref name="group"/>.</summary>
    /// <param name="group">The group the ruleset logs to.</param>
    /// <param name="networkNamespacePath">A network namespace to ask in (e.g. <c>/run/netns/NAME</c>); null for this
    /// process's own.</param>
    public static NflogProbeResult CanOpen(ushort group, string? networkNamespacePath = null)
    {
        try
        {
            using var socket = NflogSubscription.OpenChecked(networkNamespacePath);
            var errno = NetlinkAck.Exchange(socket, NflogProtocol.GroupCheckRequest(group, sequence: 2), 2, AnswerTimeout);
            return errno switch
            {
                LinuxNative.ENODEV => new NflogProbeResult(true, false, $"NFLOG is available and group {group} is free."),
                LinuxNative.EPERM => new NflogProbeResult(
                    true, true, $"NFLOG is available; group {group} is bound by another process (a running daemon?)."),
                _ => new NflogProbeResult(
                    false, false, $"NFLOG group {group} could not be checked: {LinuxNative.Describe(errno)}."),
            };
        }
        catch (NflogException ex)
        {
            return new NflogProbeResult(false, false, ex.Message);
        }
    }
}
