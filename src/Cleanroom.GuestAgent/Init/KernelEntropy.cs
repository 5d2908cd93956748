using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Feeds the host's random bytes to the guest kernel's generator and makes it reseed at once. Every VM restored from
/// one snapshot starts with the same generator state and would otherwise produce the same "random" bytes (keys,
/// nonces, temporary names) until the kernel reseeds on its own.
/// </summary>
internal static unsafe class KernelEntropy
{
    private const string Device = "/dev/urandom";

    /// <summary>Returns null on success or what failed.</summary>
    public static string? Add(ReadOnlySpan<byte> entropy)
    {
        var fd = LibC.Open(Device, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return $"entropy: cannot open {Device}: {Errno.DescribeLast()}";
        }

        try
        {
            var info = RandomPoolInfo.Build(entropy);
            fixed (byte* pointer = info)
            {
                if (LibC.Ioctl(fd, LibC.RNDADDENTROPY, pointer) != 0)
                {
                    return $"entropy: RNDADDENTROPY failed: {Errno.DescribeLast()}";
                }
            }

            return LibC.Ioctl(fd, LibC.RNDRESEEDCRNG, null) != 0 ? $"entropy: RNDRESEEDCRNG failed: {Errno.DescribeLast()}" : null;
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
