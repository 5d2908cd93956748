using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Channel;

/// <summary>
/// The port's descriptor, held open for the agent's whole life. It must not be closed between host connections:
/// closing a virtio port discards whatever the host already sent, which can be the next host's hello.
/// </summary>
internal sealed class VirtioPort : IDisposable
{
    private readonly PortInputSignal _input;
    private int _fd;

    private VirtioPort(int fd, PortInputSignal input)
    {
        _fd = fd;
        _input = input;
    }

    public static VirtioPort Open(string device)
    {
        var fd = LibC.Open(device, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_NOCTTY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IOException($"cannot open {device}: {Errno.DescribeLast()}");
        }

        try
        {
            return new VirtioPort(fd, PortInputSignal.Attach(fd));
        }
        catch
        {
            LibC.Close(fd);
            throw;
        }
    }

    /// <summary>A stream for the next host connection.</summary>
    public VirtioPortStream NewConnection()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        return new VirtioPortStream(_fd, _input);
    }

    public void Dispose()
    {
        FileDescriptors.CloseQuietly(Interlocked.Exchange(ref _fd, -1));
        _input.Dispose();
    }
}
