using System.Runtime.Versioning;

// Images are unpacked with Linux semantics (ownership, device nodes, xattrs) for Linux guests.
[assembly: SupportedOSPlatform("linux")]
