using System.Runtime.Versioning;

// These tests boot QEMU microVMs through the daemon: Linux only.
[assembly: SupportedOSPlatform("linux")]
