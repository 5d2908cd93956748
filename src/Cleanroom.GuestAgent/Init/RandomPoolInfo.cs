using System.Buffers.Binary;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// The argument of RNDADDENTROPY: <c>struct rand_pool_info { int entropy_count; int buf_size; __u32 buf[]; }</c>, the
/// count in bits, both ints in native (little-endian on every architecture the agent is built for) order.
/// </summary>
internal static class RandomPoolInfo
{
    public const int HeaderSize = 8;

    /// <summary>The struct carrying <paramref name="entropy"/>, crediting all of its bits.</summary>
    public static byte[] Build(ReadOnlySpan<byte> entropy)
    {
        var info = new byte[HeaderSize + entropy.Length];
        BinaryPrimitives.WriteInt32LittleEndian(info, entropy.Length * 8);
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(4), entropy.Length);
        entropy.CopyTo(info.AsSpan(HeaderSize));
        return info;
    }
}
