using System.Collections.Concurrent;
using System.Net;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Guard;

namespace Cleanroom.Network.Tests.Guard.Support;

/// <summary>The destinations a redirect test says its sandbox learned.</summary>
internal sealed class LearnedDestinations : IDestinationCheck
{
    private readonly ConcurrentDictionary<(string, IPAddress, int), byte> _learned = new();

    public void Add(string sandboxId, IPAddress address, int port) => _learned[(sandboxId, address, port)] = 0;

    public bool IsLearned(string sandboxId, IPAddress address, int port) => _learned.ContainsKey((sandboxId, address, port));
}

/// <summary>One sandbox, known by its guest's addresses (one per family in a dual-stack test).</summary>
internal sealed class OneClientDirectory(DnsClient client, params IPAddress[] sources) : IDnsClientDirectory
{
    public DnsClient? Find(IPAddress source) => sources.Contains(source) ? client : null;
}
