using System.Buffers.Binary;
using System.Text;

namespace Cleanroom.Vm.Tests.Support;

/// <summary>
/// Writes a ~200-byte 32-bit ELF "kernel" with a Xen PVH entry note, which QEMU's microvm boots directly. It
/// prints <see cref="Marker"/> on the 8250 UART at 0x3f8 and then either halts forever (a VM that stays up, for
/// lifecycle tests) or, 2-3 s later, triple-faults, which -no-reboot turns into QEMU exiting 0 (a guest that
/// powers off). It lets the lifecycle tests run a real QEMU in well under a second without the boot assets.
/// </summary>
internal static class TinyKernel
{
    public const string Marker = "CLEANROOM-PROBE-OK";

    private const uint LoadAddress = 0x100000;
    private const int ElfHeaderSize = 52;
    private const int ProgramHeaderSize = 32;
    private const int NoteOffset = ElfHeaderSize + (2 * ProgramHeaderSize);
    private const int CodeOffset = 144;
    private const uint PvhEntryNoteType = 18; // XEN_ELFNOTE_PHYS32_ENTRY

    public static string Write(string path, bool exitAfterMarker)
    {
        var code = Code(exitAfterMarker);
        var image = new byte[CodeOffset + code.Length];
        var span = image.AsSpan();

        // ELF32 header: little-endian i386 executable, entry = PVH entry, two program headers.
        "\u007fELF"u8.CopyTo(span);
        span[4] = 1; // ELFCLASS32
        span[5] = 1; // little-endian
        span[6] = 1; // EV_CURRENT
        U16(span, 16, 2); // ET_EXEC
        U16(span, 18, 3); // EM_386
        U32(span, 20, 1);
        U32(span, 24, LoadAddress + CodeOffset);
        U32(span, 28, ElfHeaderSize);
        U16(span, 40, ElfHeaderSize);
        U16(span, 42, ProgramHeaderSize);
        U16(span, 44, 2);

        // PT_LOAD: the whole file at 1 MiB, RWX.
        ProgramHeader(span[ElfHeaderSize..], type: 1, offset: 0, size: (uint)image.Length, flags: 7, align: 0x1000);

        // PT_NOTE: "Xen" note carrying the 32-bit PVH entry point.
        var note = span[NoteOffset..];
        ProgramHeader(span[(ElfHeaderSize + ProgramHeaderSize)..], type: 4, offset: NoteOffset, size: 20, flags: 4, align: 4);
        U32(note, 0, 4);
        U32(note, 4, 4);
        U32(note, 8, PvhEntryNoteType);
        "Xen\0"u8.CopyTo(note[12..]);
        U32(note, 16, LoadAddress + CodeOffset);

        code.CopyTo(span[CodeOffset..]);
        File.WriteAllBytes(path, image);
        return path;
    }

    /// <summary>
    /// Flat 32-bit code, entered in protected mode with paging off:
    /// <code>
    /// 00: mov esi, msg                ; be imm32
    /// 05: mov dx, 0x3f8               ; 66 ba f8 03
    /// 09: lodsb / test al,al / jz 11 / out dx,al / jmp 09
    /// 11: cmp byte [mode], 0 / je 3a
    /// 1a: mov bl, 3                   ; wait for three ticks of the CMOS RTC seconds register (2-3 s of wall
    /// 1c: bh = CMOS[0]                ; time, however slow TCG is), so QMP is up before this guest is gone
    /// 24: until CMOS[0] != bh
    /// 2e: dec bl / jnz 1c
    /// 32: lidt [nullidt] / int3       ; empty IDT: the breakpoint triple-faults
    /// 3a: cli / hlt / jmp 3a
    /// 3e: nullidt (6 bytes), 44: mode, 45: msg
    /// </code>
    /// </summary>
    private static byte[] Code(bool exitAfterMarker)
    {
        var at = (int offset) =>
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, LoadAddress + CodeOffset + (uint)offset);
            return bytes;
        };
        byte[] code =
        [
            0xbe, .. at(0x45),
            0x66, 0xba, 0xf8, 0x03,
            0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8,
            0x80, 0x3d, .. at(0x44), 0x00,
            0x74, 0x20,
            0xb3, 0x03,
            0x30, 0xc0, 0xe6, 0x70, 0xe4, 0x71, 0x88, 0xc7,
            0x30, 0xc0, 0xe6, 0x70, 0xe4, 0x71, 0x38, 0xc7, 0x74, 0xf6,
            0xfe, 0xcb, 0x75, 0xea,
            0x0f, 0x01, 0x1d, .. at(0x3e),
            0xcc,
            0xfa, 0xf4, 0xeb, 0xfc,
            0, 0, 0, 0, 0, 0,
            exitAfterMarker ? (byte)1 : (byte)0,
            .. Encoding.ASCII.GetBytes(Marker + "\r\n\0"),
        ];
        return code;
    }

    private static void ProgramHeader(Span<byte> ph, uint type, uint offset, uint size, uint flags, uint align)
    {
        U32(ph, 0, type);
        U32(ph, 4, offset);
        U32(ph, 8, LoadAddress + offset);
        U32(ph, 12, LoadAddress + offset);
        U32(ph, 16, size);
        U32(ph, 20, size);
        U32(ph, 24, flags);
        U32(ph, 28, align);
    }

    private static void U16(Span<byte> s, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(s[offset..], value);

    private static void U32(Span<byte> s, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(s[offset..], value);
}
