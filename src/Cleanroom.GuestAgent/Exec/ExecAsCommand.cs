using System.Globalization;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// The agent's hidden mode for running as another user: <c>cleanroom-guest-agent --exec-as UID GID PATH -- ARGV…</c>.
/// It runs in the freshly spawned child (already in its session/group, stdio and cwd set up), drops to the
/// requested credentials and execs the program, so the pid the host sees is the program's pid.
/// </summary>
internal static unsafe class ExecAsCommand
{
    public const string Flag = "--exec-as";

    public static IReadOnlyList<string> BuildArgv(UserIdentity user, string path, IReadOnlyList<string> argv)
    {
        var result = new List<string>(argv.Count + 6)
        {
            ExecPlanner.SelfName,
            Flag,
            user.Uid.ToString(CultureInfo.InvariantCulture),
            user.Gid.ToString(CultureInfo.InvariantCulture),
            path,
            "--",
        };
        result.AddRange(argv);
        return result;
    }

    /// <summary>Only returns on failure, with the exit code a shell would use.</summary>
    public static int Run(string[] args)
    {
        // args: --exec-as UID GID PATH -- ARGV...
        if (args.Length < 6 || args[0] != Flag || args[4] != "--"
            || !uint.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            || !uint.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
        {
            return Fail(126, "usage: --exec-as UID GID PATH -- ARGV...");
        }

        var groups = stackalloc uint[1];
        groups[0] = gid;
        if (LibC.SetGroups(1, groups) != 0 || LibC.SetGid(gid) != 0 || LibC.SetUid(uid) != 0)
        {
            return Fail(126, $"cannot switch to uid {uid} gid {gid}: {Errno.DescribeLast()}");
        }

        ResetSignals();
        using var argv = new NativeStringArray(args[5..]);
        var path = FileNameBytes.Encode(args[3] + "\0");
        fixed (byte* pathPointer = path)
        {
            LibC.Execv(pathPointer, argv.Pointer);
        }

        var errno = Errno.Last;
        return Fail(errno == Errno.ENOENT ? 127 : 126, $"cannot execute {UntrustedText.Escape(args[3])}: {Errno.Describe(errno)}");
    }

    /// <summary>
    /// execve keeps ignored signals ignored and keeps the mask. The runtime of this helper ignores SIGPIPE, so undo
    /// that (and any other ignore) and unblock everything before handing over. Raw rt_sigaction, because glibc's
    /// sigaction rejects its internal signals 32 and 33, which are ordinary signals to the next program.
    /// </summary>
    private static void ResetSignals()
    {
        var current = stackalloc byte[LibC.KernelSigActionSize];
        var defaults = stackalloc byte[LibC.KernelSigActionSize];
        new Span<byte>(defaults, LibC.KernelSigActionSize).Clear(); // handler SIG_DFL, no flags, empty mask
        for (var signal = 1; signal <= LibC.MaxSignal; signal++)
        {
            if (LibC.RtSigActionSyscall(LibC.SYS_rt_sigaction, signal, null, current, sizeof(ulong)) == 0 && *(nint*)current == LibC.SIG_IGN)
            {
                _ = LibC.RtSigActionSyscall(LibC.SYS_rt_sigaction, signal, defaults, null, sizeof(ulong));
            }
        }

        var empty = stackalloc byte[LibC.SigSetSize];
        _ = LibC.SigEmptySet(empty);
        LibC.SigProcMask(LibC.SIG_SETMASK, empty, null);
    }

    private static int Fail(int code, string message)
    {
        var bytes = Encoding.UTF8.GetBytes("cleanroom-guest-agent: " + message + "\n");
        fixed (byte* pointer = bytes)
        {
            LibC.Write(2, pointer, bytes.Length);
        }

        return code;
    }
}
