namespace Cleanroom.Network.Nflog;

/// <summary>
/// Opens a NETLINK_NETFILTER socket (in another network namespace when asked), makes it large enough for bursts, and
/// binds it to one NFLOG group, turning each refusal into a message that says what to fix.
/// </summary>
internal static class NflogSubscription
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Opens a socket and checks permission and the module; nothing is bound yet.</summary>
    public static NetlinkSocket OpenChecked(string? networkNamespacePath)
    {
        var socket = networkNamespacePath is null
            ? NetlinkSocket.Open(LinuxNative.NetlinkNetfilter)
            : NetworkNamespace.Run(networkNamespacePath, () => NetlinkSocket.Open(LinuxNative.NetlinkNetfilter));
        try
        {
            var errno = NetlinkAck.Exchange(socket, NflogProtocol.CapabilityCheckRequest(sequence: 1), 1, AnswerTimeout);
            switch (errno)
            {
                case LinuxNative.ENOTSUPP:
                    return socket;
                case LinuxNative.EPERM:
                    throw new NflogException(
                        "NFLOG needs CAP_NET_ADMIN in the network namespace: run the daemon as root.", errno);
                case LinuxNative.EINVAL or LinuxNative.EOPNOTSUPP:
                    throw new NflogException(
                        "The kernel has no nfnetlink_log (NFLOG) support loaded and could not load it: "
                        + "run `modprobe nfnetlink_log` or enable CONFIG_NETFILTER_NETLINK_LOG.", errno);
                default:
                    throw new NflogException($"The kernel answered an NFLOG check with {LinuxNative.Describe(errno)}.", errno);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens, checks and binds a socket for <paramref name="options"/>' group.</summary>
    public static NetlinkSocket Open(NflogReaderOptions options)
    {
        var socket = OpenChecked(options.NetworkNamespacePath);
        try
        {
            socket.SetReceiveBuffer(options.ReceiveBufferBytes);
            var centiseconds = (uint)Math.Max(1, Math.Round(options.FlushTimeout.TotalMilliseconds / 10));
            var errno = NetlinkAck.Exchange(
                socket, NflogProtocol.BindRequest(options.Group, 2, options.CopyRange, centiseconds), 2, AnswerTimeout);
            return errno switch
            {
                0 => socket,
                // Permission was just confirmed, so EPERM here means the group is someone else's (nfulnl_recv_config).
                LinuxNative.EPERM or LinuxNative.EBUSY => throw new NflogException(
                    $"NFLOG group {options.Group} is already bound by another process in this network namespace "
                    + "(another cleanroomd, or ulogd?): choose another group or stop that process.", errno),
                _ => throw new NflogException(
                    $"The kernel refused to bind NFLOG group {options.Group}: {LinuxNative.Describe(errno)}.", errno),
            };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
