using System.Runtime.Versioning;

// The CLI ships for Linux, beside the daemon: its workspace copies and cp write Linux trees (modes, symlinks, owners)
// through the same confined unpacker the daemon uses.
[assembly: SupportedOSPlatform("linux")]
