using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// An eventfd the receive thread polls next to its socket, so a stop wakes it at once. Closing the socket instead would
/// race: the number could be reused by another open before the blocked thread notices.
/// </summary>
internal sealed unsafe class StopSignal : IDisposable
{
    private StopSignal(SafeFileDescriptor handle)
    {
        Handle = handle;
    }

    public SafeFileDescriptor Handle { get; }

    public static StopSignal Create()
    {
        var number = LinuxNative.EventFd(0, LinuxNative.EfdCloexec | LinuxNative.EfdNonblock);
        if (number < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NflogException($"Could not create an eventfd: {LinuxNative.Describe(errno)}.", errno);
        }

        return new StopSignal(new SafeFileDescriptor(number));
    }

    /// <summary>Makes the eventfd readable for good (nobody reads it). Safe to call more than once.</summary>
    public void Set()
    {
        ulong one = 1;
        // EAGAIN (counter at its maximum) cannot happen with one increment per stop; any failure leaves the signal
        // unset, which StopAsync's caller would see as a reader that does not stop, so it is not swallowed silently.
        if (LinuxNative.Write(Handle, (byte*)&one, sizeof(ulong)) != sizeof(ulong))
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NflogException($"Could not signal the NFLOG reader to stop: {LinuxNative.Describe(errno)}.", errno);
        }
    }

    public void Dispose() => Handle.Dispose();
}
