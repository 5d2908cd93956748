using System.Runtime.Versioning;

// The gateway runs on the Linux host only.
[assembly: SupportedOSPlatform("linux")]
