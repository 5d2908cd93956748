using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace Cleanroom.Escaping;

/// <summary>
/// Marshals a path for a libc call through <see cref="FileNameBytes"/> (NUL-terminated), so a name holding escaped
/// bytes reaches the kernel as the bytes it stands for; plain names marshal exactly as UTF-8 does. Use it with
/// <c>StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller)</c>.
/// </summary>
[CustomMarshaller(typeof(string), MarshalMode.Default, typeof(FileNameMarshaller))]
public static unsafe class FileNameMarshaller
{
    /// <summary>A NUL-terminated copy of the name's bytes; a name holding NUL is refused (it would name something else).</summary>
    public static byte* ConvertToUnmanaged(string? managed)
    {
        if (managed is null)
        {
            return null;
        }

        var bytes = FileNameBytes.Encode(managed);
        if (Array.IndexOf(bytes, (byte)0) >= 0)
        {
            throw new ArgumentException("A path may not hold a NUL byte.", nameof(managed));
        }

        var native = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(native, bytes.Length));
        native[bytes.Length] = 0;
        return native;
    }

    /// <summary>The name for a NUL-terminated string that libc returned.</summary>
    public static string? ConvertToManaged(byte* unmanaged) =>
        unmanaged is null ? null : FileNameBytes.Decode(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(unmanaged));

    /// <summary>Frees what <see cref="ConvertToUnmanaged"/> allocated.</summary>
    public static void Free(byte* unmanaged) => NativeMemory.Free(unmanaged);
}
