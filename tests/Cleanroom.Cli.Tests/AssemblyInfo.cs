using System.Runtime.Versioning;

// The CLI it tests is Linux-only (see src/Cleanroom.Cli/AssemblyInfo.cs).
[assembly: SupportedOSPlatform("linux")]
