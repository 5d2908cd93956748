namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// An eventfd that threads blocked in poll() include in their set, so another thread can wake them. Once set it stays
/// readable (nobody drains it): every later poll sees it too, which is what "the process is gone" needs.
/// </summary>
internal sealed unsafe class WakeEvent : IDisposable
{
    private const int EFD_NONBLOCK = 0x800;
    private const int EFD_CLOEXEC = 0x80000;
    private int _fd;

    public WakeEvent()
    {
        _fd = LibC.EventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_fd < 0)
        {
            throw new IOException("eventfd failed: " + Errno.DescribeLast());
        }
    }

    public int Fd => _fd;

    public void Set()
    {
        ulong one = 1;
        LibC.Write(_fd, (byte*)&one, sizeof(ulong));
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        FileDescriptors.CloseQuietly(fd);
    }
}
