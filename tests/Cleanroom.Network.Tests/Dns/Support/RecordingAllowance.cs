using System.Collections.Concurrent;
using System.Threading.Channels;
using Cleanroom.Network.Dns;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>One call to open the firewall.</summary>
internal sealed record AllowanceCall(string SandboxId, string Name, IReadOnlyList<ResolvedAddress> Addresses);

/// <summary>
/// Stands in for the firewall: records every call and then does what the test says (by default nothing), so a test can
/// hold answers back, fail them, or never finish.
/// </summary>
internal sealed class RecordingAllowance : IEgressAllowance
{
    private readonly Channel<AllowanceCall> _calls = Channel.CreateUnbounded<AllowanceCall>();
    private readonly ConcurrentQueue<AllowanceCall> _all = new();

    /// <summary>What each call does after it is recorded.</summary>
    public Func<AllowanceCall, CancellationToken, Task> Behaviour { get; set; } = (_, _) => Task.CompletedTask;

    public IReadOnlyCollection<AllowanceCall> All => _all;

    public async Task AllowAsync(DnsClient client, string name, IReadOnlyList<ResolvedAddress> addresses, CancellationToken ct)
    {
        var call = new AllowanceCall(client.SandboxId, name, addresses);
        _all.Enqueue(call);
        await _calls.Writer.WriteAsync(call, ct);
        await Behaviour(call, ct);
    }

    /// <summary>The next call, waiting for it up to ten seconds.</summary>
    public async Task<AllowanceCall> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _calls.Reader.ReadAsync(timeout.Token);
    }
}
