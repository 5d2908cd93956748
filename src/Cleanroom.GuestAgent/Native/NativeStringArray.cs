using System.Runtime.InteropServices;
using System.Text;

namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// A NULL-terminated array of NUL-terminated UTF-8 strings in native memory (argv/envp for posix_spawn and execv).
/// One block holds pointers and characters, so there is a single allocation to free.
/// </summary>
internal sealed unsafe class NativeStringArray : IDisposable
{
    private byte* _block;

    public NativeStringArray(IReadOnlyList<string> values)
    {
        var pointerBytes = (values.Count + 1) * sizeof(byte*);
        var total = pointerBytes;
        foreach (var value in values)
        {
            total += Encoding.UTF8.GetByteCount(value) + 1;
        }

        _block = (byte*)NativeMemory.Alloc((nuint)total);
        var pointers = (byte**)_block;
        var cursor = _block + pointerBytes;
        for (var i = 0; i < values.Count; i++)
        {
            pointers[i] = cursor;
            var written = Encoding.UTF8.GetBytes(values[i], new Span<byte>(cursor, total - (int)(cursor - _block)));
            cursor[written] = 0;
            cursor += written + 1;
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
