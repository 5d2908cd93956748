using System.Runtime.Versioning;

// The VMs, unix sockets and fake tools these tests use exist only on Linux.
[assembly: SupportedOSPlatform("linux")]
