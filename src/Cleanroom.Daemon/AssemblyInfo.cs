using System.Runtime.Versioning;

// The daemon drives QEMU, unix sockets and Linux file modes: it only runs on Linux.
[assembly: SupportedOSPlatform("linux")]
