using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>errno values the agent reacts to, and readable messages for the rest.</summary>
internal static class Errno
{
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int ECHILD = 10;
    public const int EAGAIN = 11;
    public const int EBUSY = 16;
    public const int EEXIST = 17;

    /// <summary>errno of the last P/Invoke on this thread.</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    /// <summary>Describes the last P/Invoke's errno.</summary>
    public static string DescribeLast() => Describe(Last);
}
