using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Makes sure descriptors 0–2 are open. If the initramfs has no /dev/console the kernel starts init without them,
/// and then our first pipes would be numbered 0–2 and the child's dup2s would clobber each other.
/// </summary>
internal static class StdioGuard
{
    public static void EnsureOpen()
    {
        for (var fd = 0; fd <= 2; fd++)
        {
            if (FileDescriptors.IsOpen(fd))
            {
                continue;
            }

            var opened = LibC.Open(fd == 0 ? "/dev/null" : "/dev/console", fd == 0 ? LibC.O_RDONLY : LibC.O_WRONLY | LibC.O_NOCTTY, 0);
            if (opened < 0)
            {
                opened = LibC.Open("/dev/null", LibC.O_RDWR, 0);
            }

            if (opened >= 0 && opened != fd)
            {
                LibC.Dup2(opened, fd);
                LibC.Close(opened);
            }
        }
    }
}
