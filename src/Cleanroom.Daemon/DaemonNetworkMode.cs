namespace Cleanroom.Daemon;

/// <summary>Whether sandboxes get a network (<c>cleanroom serve --network</c>).</summary>
public enum DaemonNetworkMode
{
    /// <summary>No network card at all: egress is denied because there is no way out.</summary>
    Off,

    /// <summary>On when the host allows it (root, /dev/net/tun, nft); otherwise off, and the log and doctor say why.</summary>
    Auto,

    /// <summary>On, or the daemon refuses to start and says why.</summary>
    On,
}
