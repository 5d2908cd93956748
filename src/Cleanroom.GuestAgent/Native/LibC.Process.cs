using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>Process creation, waiting, signals and credentials.</summary>
internal static unsafe partial class LibC
{
    public const short POSIX_SPAWN_SETPGROUP = 0x02;
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    public const short POSIX_SPAWN_SETSID = 0x80;

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGURG = 23;

    /// <summary>Highest signal number on Linux (SIGRTMAX).</summary>
    public const int MaxSignal = 64;

    public const int SIG_BLOCK = 0;
    public const int SIG_SETMASK = 2;
    public const nint SIG_IGN = 1;

    /// <summary>glibc's sigset_t is 1024 bits.</summary>
    public const int SigSetSize = 128;

    /// <summary>The kernel's struct sigaction on x86-64: handler, flags, restorer, 64-bit mask.</summary>
    public const int KernelSigActionSize = 32;

    /// <summary>rt_sigaction on x86-64, called raw: glibc refuses to touch its internal signals 32 and 33.</summary>
    public const nint SYS_rt_sigaction = 13;

    [LibraryImport(Library, EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport(Library, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(Library, EntryPoint = "posix_spawn")]
    public static partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int PosixSpawnFileActionsInit(void* fileActions);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int PosixSpawnFileActionsDestroy(void* fileActions);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int PosixSpawnFileActionsAddDup2(void* fileActions, int fd, int newFd);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int PosixSpawnFileActionsAddOpen(void* fileActions, int fd, string path, int flags, int mode);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int PosixSpawnFileActionsAddChdir(void* fileActions, string path);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_init")]
    public static partial int PosixSpawnAttrInit(void* attributes);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_destroy")]
    public static partial int PosixSpawnAttrDestroy(void* attributes);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_setflags")]
    public static partial int PosixSpawnAttrSetFlags(void* attributes, short flags);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int PosixSpawnAttrSetSigDefault(void* attributes, void* sigset);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int PosixSpawnAttrSetSigMask(void* attributes, void* sigset);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_setpgroup")]
    public static partial int PosixSpawnAttrSetPGroup(void* attributes, int processGroup);

    [LibraryImport(Library, EntryPoint = "sigemptyset")]
    public static partial int SigEmptySet(void* sigset);

    [LibraryImport(Library, EntryPoint = "sigaddset")]
    public static partial int SigAddSet(void* sigset, int signal);

    /// <summary>Changes the calling thread's mask only; returns an error number instead of setting errno.</summary>
    [LibraryImport(Library, EntryPoint = "pthread_sigmask")]
    public static partial int PthreadSigMask(int how, void* set, void* oldSet);

    [LibraryImport(Library, EntryPoint = "signalfd", SetLastError = true)]
    public static partial int SignalFd(int fd, void* sigset, int flags);

    [LibraryImport(Library, EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport(Library, EntryPoint = "sigprocmask", SetLastError = true)]
    public static partial int SigProcMask(int how, void* set, void* oldSet);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    public static partial nint RtSigActionSyscall(nint number, int signal, void* action, void* oldAction, nint maskBytes);

    [LibraryImport(Library, EntryPoint = "setgroups", SetLastError = true)]
    public static partial int SetGroups(nuint count, uint* groups);

    [LibraryImport(Library, EntryPoint = "setgid", SetLastError = true)]
    public static partial int SetGid(uint gid);

    [LibraryImport(Library, EntryPoint = "setuid", SetLastError = true)]
    public static partial int SetUid(uint uid);

    [LibraryImport(Library, EntryPoint = "execv", SetLastError = true)]
    public static partial int Execv(byte* path, byte** argv);
}
