using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// Writes to x86 I/O ports, for the guest's legacy devices. <c>cleanroom_outb</c> is port_io.c, linked into the static
/// agent only: a JIT build (the tests) has no such library, and must never write the host's ports anyway.
/// </summary>
internal static partial class PortIo
{
    private const string Library = "cleanroom_port_io";

    /// <summary>Gives this thread access to <paramref name="count"/> ports from <paramref name="first"/> (or takes it back).</summary>
    [LibraryImport(LibC.Library, EntryPoint = "ioperm", SetLastError = true)]
    public static partial int IoPerm(nuint first, nuint count, int turnOn);

    [LibraryImport(Library, EntryPoint = "cleanroom_outb")]
    public static partial void OutByte(ushort port, byte value);
}
