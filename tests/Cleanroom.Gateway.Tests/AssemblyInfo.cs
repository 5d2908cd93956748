using System.Runtime.Versioning;

// The gateway tests run real git and check Unix file modes (the credentials file), like the product: Linux only.
[assembly: SupportedOSPlatform("linux")]
