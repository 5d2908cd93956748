using System.Runtime.Versioning;

// The daemon is Linux-only (unix sockets, file modes); so are its tests.
[assembly: SupportedOSPlatform("linux")]
