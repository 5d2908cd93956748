using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Channel;

/// <summary>
/// The port's descriptor, held open for the agent's whole life. It must not be closed between host connections:
/// closing a virtio port discards whatever the host already sent, which can be the next host's hello.
/// </summary>
internal sealed class VirtioPort : IDisposable
{
    private int _fd;

    private VirtioPort(int fd) => _fd = fd;

    public static VirtioPort Open(string device)
    {
        var fd = LibC.Open(device, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_NOCTTY | LibC.O_CLOEXEC, 0);
        return fd >= 0 ? new VirtioPort(fd) : throw new IOException($"cannot open {device}: {Errno.DescribeLast()}");
    }

    /// <summary>A stream for the next host connection.</summary>
    public VirtioPortStream NewConnection()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        return new VirtioPortStream(_fd);
    }

    public void Dispose() => FileDescriptors.CloseQuietly(Interlocked.Exchange(ref _fd, -1));
}
