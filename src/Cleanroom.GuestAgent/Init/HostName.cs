using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>Sets the guest's hostname (the kernel default, "(none)", confuses tools that print it).</summary>
internal static unsafe class HostName
{
    public static void Set(string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name);
        fixed (byte* pointer = bytes)
        {
            if (LibC.SetHostName(pointer, (nuint)bytes.Length) != 0)
            {
                AgentLog.Error($"sethostname {name} failed: {Errno.DescribeLast()}");
            }
        }
    }
}
