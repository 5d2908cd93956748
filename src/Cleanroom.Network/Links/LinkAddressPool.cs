using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.Network.Links;

/// <summary>
/// Cuts an IPv4 pool into /30 links: link <c>i</c> is <c>base + 4i</c>, the host end <c>+1</c>, the guest
/// <c>+2</c>. With an IPv6 pool, link <c>i</c> also gets the /126 at the same offset of it. Pure arithmetic; which
/// index a sandbox holds is recorded by the daemon.
/// </summary>
public sealed class LinkAddressPool
{
    public const int LinkPrefixLength = 30;
    public const int LinkPrefixLength6 = 126;
    private readonly uint _base;
    private readonly UInt128 _base6;
    private readonly string _tapPrefix;

    public LinkAddressPool(IPNetwork pool, string tapPrefix, IPNetwork? pool6 = null)
    {
        if (pool.BaseAddress.AddressFamily != AddressFamily.InterNetwork || pool.PrefixLength is < 8 or > 28)
        {
            throw new ArgumentException($"the network pool must be an IPv4 block from /8 to /28, not {pool}", nameof(pool));
        }

        ArgumentException.ThrowIfNullOrEmpty(tapPrefix);
        Pool = pool;
        _tapPrefix = tapPrefix;
        _base = BinaryPrimitives.ReadUInt32BigEndian(pool.BaseAddress.GetAddressBytes());
        Capacity = 1 << (LinkPrefixLength - pool.PrefixLength);
        if (pool6 is { } six)
        {
            // Every IPv4 link needs its IPv6 twin: the pool must hold as many /126s as the IPv4 pool holds /30s.
            if (six.BaseAddress.AddressFamily != AddressFamily.InterNetworkV6 || six.BaseAddress.IsIPv4MappedToIPv6
                || six.PrefixLength > LinkPrefixLength6 - (LinkPrefixLength - pool.PrefixLength) || six.PrefixLength < 48)
            {
                throw new ArgumentException(
                    $"the IPv6 network pool must be an IPv6 block from /48 to /{LinkPrefixLength6 - (LinkPrefixLength - pool.PrefixLength)} (as many /126 links as {pool} has /30s), not {six}",
                    nameof(pool6));
            }

            Pool6 = six;
            _base6 = BinaryPrimitives.ReadUInt128BigEndian(six.BaseAddress.GetAddressBytes());
        }
    }

    public IPNetwork Pool { get; }

    /// <summary>Null when links have no IPv6.</summary>
    public IPNetwork? Pool6 { get; }

    /// <summary>How many links fit.</summary>
    public int Capacity { get; }

    public SandboxLink LinkAt(int index, string sandboxId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Capacity);
        var network = _base + (uint)(index * 4);
        var network6 = _base6 + (UInt128)(uint)(index * 4);
        return new SandboxLink(
            index,
            _tapPrefix + index.ToString(CultureInfo.InvariantCulture),
            Address(network + 1),
            Address(network + 2),
            LinkPrefixLength,
            MacFor(sandboxId))
        {
            HostAddress6 = Pool6 is null ? null : Address6(network6 + 1),
            GuestAddress6 = Pool6 is null ? null : Address6(network6 + 2),
        };
    }

    /// <summary>
    /// A locally administered unicast MAC from the sandbox id. Each link is its own L2 segment, so two sandboxes with
    /// the same MAC could not see each other; the firewall pins the guest to it.
    /// </summary>
    public static string MacFor(string sandboxId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(sandboxId));
        return string.Create(CultureInfo.InvariantCulture, $"02:{hash[0]:x2}:{hash[1]:x2}:{hash[2]:x2}:{hash[3]:x2}:{hash[4]:x2}");
    }

    private static IPAddress Address(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    private static IPAddress Address6(UInt128 value)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
