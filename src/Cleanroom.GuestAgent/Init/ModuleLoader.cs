using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Loads the kernel modules named in /etc/modules (one base name per line, dependencies first, as the initramfs
/// builder writes it) from /lib/modules/NAME.ko with finit_module. Already-loaded modules are fine; a module that
/// fails is logged and the rest still load (a missing driver then shows up as a clear later failure).
/// </summary>
internal static unsafe class ModuleLoader
{
    public static void LoadAll(string listPath = "/etc/modules", string directory = "/lib/modules")
    {
        if (!File.Exists(listPath))
        {
            return;
        }

        var loaded = 0;
        foreach (var rawLine in File.ReadAllLines(listPath))
        {
            var name = rawLine.Trim();
            if (name.Length == 0 || name[0] == '#')
            {
                continue;
            }

            if (Load(Path.Combine(directory, name + ".ko")))
            {
                loaded++;
            }
        }

        AgentLog.Info($"loaded {loaded} kernel modules");
    }

    private static bool Load(string path)
    {
        var fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            AgentLog.Error($"cannot open module {path}: {Errno.DescribeLast()}");
            return false;
        }

        try
        {
            byte emptyParameters = 0;
            if (LibC.FinitModuleSyscall(LibC.SYS_finit_module, fd, &emptyParameters, 0) == 0)
            {
                return true;
            }

            if (Errno.Last == Errno.EEXIST)
            {
                return false;
            }

            AgentLog.Error($"cannot load module {path}: {Errno.DescribeLast()}");
            return false;
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
