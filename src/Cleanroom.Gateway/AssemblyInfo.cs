using System.Runtime.Versioning;

// The gateway runs on the Linux host beside the microVMs, and its OCI route reuses the (Linux-only) registry client.
[assembly: SupportedOSPlatform("linux")]
