using System.Globalization;
using System.Text;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Makes the user namespace an idmapped mount takes its mapping from: one id, 0 → the owner's uid and gid. A user
/// namespace only exists while something lives in it, so a child is cloned straight into a new one, its maps are
/// written from here, its namespace is opened, and it is killed; the descriptor keeps the namespace alive.
/// </summary>
/// <remarks>
/// The child is a raw clone (fork semantics) rather than a spawned helper that calls unshare: unshare(CLONE_NEWUSER)
/// is refused (EINVAL) in a multithreaded process, and the .NET runtime has threads before Main runs. clone with
/// CLONE_NEWUSER has no such rule. The child runs no code of its own beyond pause(): it only has to exist. If the fork
/// caught a garbage collection half way, the child may block in the runtime instead, which serves just as well. The
/// agent is compiled ahead of time and maps no memory shared with a child; under a JIT (the agent's tests) the child can
/// compile pause()'s stub into code memory that W^X maps shared, which corrupted the parent, so that test host runs
/// with W^X off (tests/Cleanroom.GuestAgent.Tests/agent-tests.runsettings).
/// </remarks>
internal static class UserNamespaceForIdMap
{
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A close-on-exec descriptor of the new namespace; throws <see cref="InitException"/> on failure.</summary>
    public static int Create(uint uid, uint gid, ChildReaper reaper)
    {
        ArgumentNullException.ThrowIfNull(reaper);
        var (pid, exited) = reaper.Spawn(CloneIntoNewNamespace);
        try
        {
            Write(pid, "uid_map", $"0 {uid.ToString(CultureInfo.InvariantCulture)} 1\n");
            Write(pid, "setgroups", "deny");
            Write(pid, "gid_map", $"0 {gid.ToString(CultureInfo.InvariantCulture)} 1\n");
            var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/user";
            var fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
            return fd >= 0 ? fd : throw new InitException($"open {path} failed: {Errno.DescribeLast()}");
        }
        finally
        {
            LibC.Kill(pid, LibC.SIGKILL);
            if (!exited.Wait(ReapTimeout))
            {
                AgentLog.Warn($"workspace: the user namespace helper {pid} was not reaped in {ReapTimeout.TotalSeconds:0}s");
            }
        }
    }

    private static int CloneIntoNewNamespace()
    {
        var pid = (int)LibC.CloneSyscall(LibC.SysClone, LibC.CLONE_NEWUSER | LibC.SIGCHLD, 0, 0, 0, 0);
        if (pid == 0)
        {
            // The child: a copy of a multithreaded process with one thread left. Touch nothing; wait for SIGKILL.
            while (true)
            {
                LibC.Pause();
            }
        }

        return pid > 0 ? pid : throw new InitException($"clone(CLONE_NEWUSER) failed: {Errno.DescribeLast()}");
    }

    /// <summary>One write(2): the kernel takes a map only as a single write.</summary>
    private static unsafe void Write(int pid, string file, string text)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/{file}";
        var fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new InitException($"open {path} failed: {Errno.DescribeLast()}");
        }

        try
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            fixed (byte* pointer = bytes)
            {
                if (LibC.Write(fd, pointer, bytes.Length) != bytes.Length)
                {
                    throw new InitException($"writing {text.TrimEnd()} to {path} failed: {Errno.DescribeLast()}");
                }
            }
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
