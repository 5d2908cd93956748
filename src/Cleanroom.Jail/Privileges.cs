using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Cleanroom.Jail;

/// <summary>What the command runs as: the VM's uid and gid, no groups, no capabilities, no_new_privs, a fixed environment.</summary>
internal static class Privileges
{
    /// <summary>The environment the command gets, and nothing else.</summary>
    public static readonly IReadOnlyList<string> Environment = ["PATH=/usr/bin:/bin", "LANG=C"];

    /// <summary>The highest capability number this kernel knows (read while the host's /proc is still visible).</summary>
    public static int LastCapability()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException)
        {
            throw new JailFailure("cannot read /proc/sys/kernel/cap_last_cap: " + ex.Message);
        }
    }

    /// <summary>
    /// With a user: empties the capability bounding set (while still root, as that needs a capability), drops the
    /// groups, then the gid and uid (which clears the permitted and effective sets), then the inheritable and ambient
    /// sets. Always: no_new_privs, so nothing exec'd later gains privileges.
    /// </summary>
    public static unsafe void Drop((uint Uid, uint Gid)? user, int lastCapability)
    {
        if (user is var (uid, gid))
        {
            for (var cap = 0; cap <= lastCapability; cap++)
            {
                JailFailure.ThrowIfFailed(LibC.prctl(LibC.PR_CAPBSET_DROP, (ulong)cap, 0, 0, 0), $"cannot drop capability {cap} from the bounding set");
            }

            JailFailure.ThrowIfFailed(LibC.setgroups(0, 0), "cannot drop the supplementary groups");
            JailFailure.ThrowIfFailed(LibC.setresgid(gid, gid, gid), $"cannot switch to gid {gid}");
            JailFailure.ThrowIfFailed(LibC.setresuid(uid, uid, uid), $"cannot switch to uid {uid}");
            var header = new LibC.CapHeader { Version = LibC.LINUX_CAPABILITY_VERSION_3 };
            var data = stackalloc LibC.CapData[2];
            data[0] = default;
            data[1] = default;
            JailFailure.ThrowIfFailed(LibC.capset(&header, data), "cannot clear the capabilities");
            JailFailure.ThrowIfFailed(LibC.prctl(LibC.PR_CAP_AMBIENT, LibC.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "cannot clear the ambient capabilities");
        }

        JailFailure.ThrowIfFailed(LibC.prctl(LibC.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "cannot set no_new_privs");
    }

    /// <summary>Replaces this process with the command; returns only by throwing.</summary>
    public static unsafe void Exec(IReadOnlyList<string> command)
    {
        var argv = Strings(command);
        var envp = Strings(Environment);
        LibC.execve(argv[0], argv, envp);
        throw new JailFailure($"cannot run {command[0]}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>A NULL-terminated array of NUL-terminated UTF-8 strings, never freed (the process is replaced).</summary>
    private static unsafe byte** Strings(IReadOnlyList<string> values)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(values.Count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < values.Count; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(values[i] + "\0");
            var copy = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
            bytes.CopyTo(new Span<byte>(copy, bytes.Length));
            array[i] = copy;
        }

        array[values.Count] = null;
        return array;
    }
}
