using System.Runtime.InteropServices;

namespace Cleanroom.Images.Layers;

/// <summary>
/// The kernel's struct statx. Unlike struct stat its layout is the same on every architecture, which is why it is
/// used here; only the fields this code reads are declared.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    [FieldOffset(20)]
    public uint Uid;

    [FieldOffset(24)]
    public uint Gid;

    [FieldOffset(28)]
    public ushort Mode;

    [FieldOffset(40)]
    public ulong Size;

    [FieldOffset(112)]
    public long ModificationSeconds;

    [FieldOffset(120)]
    public uint ModificationNanoseconds;
}
