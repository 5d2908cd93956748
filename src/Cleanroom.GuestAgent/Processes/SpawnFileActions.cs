using System.Runtime.InteropServices;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Processes;

/// <summary>A posix_spawn_file_actions_t: the child's working directory and its descriptors 0–2.</summary>
internal sealed unsafe class SpawnFileActions : IDisposable
{
    // glibc's posix_spawn_file_actions_t is 80 bytes; allocate generously.
    private const int ActionsBytes = 1024;
    private void* _actions;

    public SpawnFileActions(string workingDirectory, ChildStdio stdio)
    {
        _actions = NativeMemory.AllocZeroed(ActionsBytes);
        Check(LibC.PosixSpawnFileActionsInit(_actions), "posix_spawn_file_actions_init");
        Check(LibC.PosixSpawnFileActionsAddChdir(_actions, workingDirectory), "posix_spawn_file_actions_addchdir_np");
        switch (stdio)
        {
            case PipeStdio pipes:
                // Pipe ends are close-on-exec and, once init has filled 0–2, never numbered 0–2 themselves, so these
                // dup2s cannot clobber each other and leave nothing else open in the child.
                Check(LibC.PosixSpawnFileActionsAddDup2(_actions, pipes.Stdin, 0), "adddup2(stdin)");
                Check(LibC.PosixSpawnFileActionsAddDup2(_actions, pipes.Stdout, 1), "adddup2(stdout)");
                Check(LibC.PosixSpawnFileActionsAddDup2(_actions, pipes.Stderr, 2), "adddup2(stderr)");
                break;
            case TerminalStdio terminal:
                // Opened after setsid and without O_NOCTTY, so it becomes the child's controlling terminal.
                Check(LibC.PosixSpawnFileActionsAddOpen(_actions, 0, terminal.SlavePath, LibC.O_RDWR, 0), "addopen(pty)");
                Check(LibC.PosixSpawnFileActionsAddDup2(_actions, 0, 1), "adddup2(tty stdout)");
                Check(LibC.PosixSpawnFileActionsAddDup2(_actions, 0, 2), "adddup2(tty stderr)");
                break;
            default:
                throw new ArgumentException("unknown stdio kind", nameof(stdio));
        }
    }

    public void* Pointer => _actions;

    public void Dispose()
    {
        if (_actions != null)
        {
            _ = LibC.PosixSpawnFileActionsDestroy(_actions);
            NativeMemory.Free(_actions);
            _actions = null;
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new IOException($"{what} failed: {Errno.Describe(result)}");
        }
    }
}
