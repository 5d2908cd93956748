using System.Runtime.Versioning;

// Network namespaces, nftables and netlink: Linux only.
[assembly: SupportedOSPlatform("linux")]
