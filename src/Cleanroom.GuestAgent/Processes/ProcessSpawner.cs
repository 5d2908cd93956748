using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Processes;

/// <summary>Starts children with posix_spawn (vfork-fast, no managed code in the child) through the reaper.</summary>
internal static unsafe class ProcessSpawner
{
    /// <summary>Starts the child; throws <see cref="SpawnException"/> with the errno when posix_spawn fails.</summary>
    public static (int Pid, Task<ProcessExit> Exited) Start(SpawnSpec spec, ChildReaper reaper)
    {
        using var attributes = new SpawnAttributes(spec.NewSession);
        using var actions = new SpawnFileActions(spec.WorkingDirectory, spec.Stdio);
        using var argv = new NativeStringArray(spec.Argv);
        using var envp = new NativeStringArray(spec.Env);
        var path = Encoding.UTF8.GetBytes(spec.Path + "\0");
        return reaper.Spawn(() =>
        {
            int pid;
            int result;
            fixed (byte* pathPointer = path)
            {
                result = LibC.PosixSpawn(&pid, pathPointer, actions.Pointer, attributes.Pointer, argv.Pointer, envp.Pointer);
            }

            return result == 0 ? pid : throw new SpawnException(result, $"cannot execute {spec.Path}: {Errno.Describe(result)}");
        });
    }
}
