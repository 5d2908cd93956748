using Cleanroom.HostProcesses;

namespace Cleanroom.Network.Tests.Nflog.Support;

/// <summary>
/// A test that creates a network namespace with its own nftables ruleset and reads NFLOG there: needs root, ip(8) and
/// nft(8). Skipped with the reason otherwise.
/// </summary>
internal sealed class RootNetnsFactAttribute : FactAttribute
{
    public RootNetnsFactAttribute()
    {
        Skip = RootNetns.SkipReason;
    }
}

/// <summary>The theory form of <see cref="RootNetnsFactAttribute"/>.</summary>
internal sealed class RootNetnsTheoryAttribute : TheoryAttribute
{
    public RootNetnsTheoryAttribute()
    {
        Skip = RootNetns.SkipReason;
    }
}

internal static class RootNetns
{
    private static readonly string SearchPath = Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin";

    public static string? Ip { get; } = ExecutableSearch.FindOnPath("ip", SearchPath);

    public static string? Nft { get; } = ExecutableSearch.FindOnPath("nft", SearchPath);

    public static string? SkipReason { get; } =
        !Posix.IsRoot ? "Creating network namespaces and nftables rules needs root."
        : Ip is null ? "ip (iproute2) is not installed."
        : Nft is null ? "nft (nftables) is not installed."
        : null;
}

/// <summary>Tests that create namespaces and generate traffic run one at a time: the CI box has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NflogNamespaceTests
{
    public const string Name = "nflog-netns";
}
