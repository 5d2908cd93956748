using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// A raw file descriptor owned by a SafeHandle, so a close racing a call still in progress on another thread waits
/// for that call to return instead of closing a number the kernel may already have handed to someone else.
/// </summary>
internal sealed class SafeFileDescriptor : SafeHandle
{
    public SafeFileDescriptor(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle < 0;

    /// <summary>The descriptor number, for poll(2), which takes numbers rather than handles.</summary>
    public int Number => (int)handle;

    protected override bool ReleaseHandle() => LinuxNative.Close((int)handle) == 0;
}
