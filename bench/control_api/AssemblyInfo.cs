using System.Runtime.Versioning;

// The daemon runs on Linux only.
[assembly: SupportedOSPlatform("linux")]
