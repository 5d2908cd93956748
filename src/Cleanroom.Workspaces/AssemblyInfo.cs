using System.Runtime.Versioning;

// Workspaces are exported with Linux semantics (modes, symlinks, byte file names) into ext4 for Linux guests.
[assembly: SupportedOSPlatform("linux")]
