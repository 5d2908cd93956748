using System.Runtime.InteropServices;
using System.Text;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>Reads an extended attribute without following symlinks (getfattr is not installed everywhere).</summary>
internal static partial class ExtendedAttributes
{
    public static string? Get(string path, string name)
    {
        var value = new byte[4096];
        var length = LGetXattr(NulTerminated(path), NulTerminated(name), value, (nuint)value.Length);
        return length < 0 ? null : Encoding.UTF8.GetString(value, 0, (int)length);
    }

    private static byte[] NulTerminated(string text) => Encoding.UTF8.GetBytes(text + "\0");

    [DllImport("libc", EntryPoint = "lgetxattr", SetLastError = true)]
    private static extern nint LGetXattr(byte[] path, byte[] name, byte[] value, nuint size);
}
