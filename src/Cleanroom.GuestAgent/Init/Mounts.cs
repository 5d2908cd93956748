using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>mount(2) with directory creation and errors that say what failed.</summary>
internal static class Mounts
{
    /// <summary>Mounts, creating the mount point if missing; throws with a clear message on failure.</summary>
    public static void Mount(string source, string target, string type, nuint flags = 0, string? data = null)
    {
        Directory.CreateDirectory(target);
        if (LibC.Mount(source, target, type, flags, data) != 0)
        {
            throw new InitException($"mount -t {type} {source} {target}{(data is null ? "" : " -o " + data)} failed: {Errno.DescribeLast()}");
        }
    }

    /// <summary>Like <see cref="Mount"/>, but "already mounted" (EBUSY) is fine.</summary>
    public static void MountIfAbsent(string source, string target, string type, nuint flags = 0, string? data = null)
    {
        Directory.CreateDirectory(target);
        if (LibC.Mount(source, target, type, flags, data) != 0 && Errno.Last != Errno.EBUSY)
        {
            throw new InitException($"mount -t {type} {source} {target} failed: {Errno.DescribeLast()}");
        }
    }

    /// <summary>Moves an existing mount (MS_MOVE); false if it could not be moved.</summary>
    public static bool Move(string from, string to)
    {
        Directory.CreateDirectory(to);
        return LibC.Mount(from, to, null, LibC.MS_MOVE, null) == 0;
    }
}
