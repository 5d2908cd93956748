using System.Runtime.InteropServices;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// A NULL-terminated array of NUL-terminated UTF-8 strings in native memory (argv/envp for posix_spawn and execv).
/// One block holds pointers and characters, so there is a single allocation to free. Strings are encoded with
/// <see cref="FileNameBytes"/>, so an argument carrying a file name's bytes that are not UTF-8 passes them on exactly.
/// </summary>
internal sealed unsafe class NativeStringArray : IDisposable
{
    private byte* _block;

    public NativeStringArray(IReadOnlyList<string> values)
    {
        var pointerBytes = (values.Count + 1) * sizeof(byte*);
        var total = pointerBytes;
        var encoded = new byte[values.Count][];
        for (var i = 0; i < values.Count; i++)
        {
            encoded[i] = FileNameBytes.Encode(values[i]);
            total += encoded[i].Length + 1;
        }

        _block = (byte*)NativeMemory.Alloc((nuint)total);
        var pointers = (byte**)_block;
        var cursor = _block + pointerBytes;
        for (var i = 0; i < values.Count; i++)
        {
            pointers[i] = cursor;
            encoded[i].CopyTo(new Span<byte>(cursor, encoded[i].Length));
            cursor[encoded[i].Length] = 0;
            cursor += encoded[i].Length + 1;
        }

        pointers[values.Count] = null;
    }

    public byte** Pointer => (byte**)_block;

    public void Dispose()
    {
        if (_block != null)
        {
            NativeMemory.Free(_block);
            _block = null;
        }
    }
}
