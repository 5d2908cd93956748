using System.Threading.Channels;

namespace Cleanroom.Network.Tests.Nflog.Support;

/// <summary>An egress audit that keeps what it is given and lets a test wait for a denial matching a condition.</summary>
internal sealed class RecordingAudit : IEgressAudit
{
    private readonly Channel<EgressDenial> _channel = Channel.CreateUnbounded<EgressDenial>();
    private readonly List<EgressDenial> _seen = [];

    public Func<EgressDenial, Exception?> Fail { get; init; } = _ => null;

    public void Denied(EgressDenial denial)
    {
        if (Fail(denial) is { } exception)
        {
            throw exception;
        }

        _channel.Writer.TryWrite(denial);
    }

    /// <summary>Everything received so far (only for single-threaded unit tests).</summary>
    public IReadOnlyList<EgressDenial> Drain()
    {
        while (_channel.Reader.TryRead(out var denial))
        {
            _seen.Add(denial);
        }

        return _seen;
    }

    /// <summary>Waits for the first denial matching <paramref name="match"/>; fails naming what did arrive.</summary>
    public async Task<EgressDenial> WaitForAsync(Func<EgressDenial, bool> match, TimeSpan timeout)
    {
        foreach (var earlier in _seen)
        {
            if (match(earlier))
            {
                return earlier;
            }
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var denial = await _channel.Reader.ReadAsync(deadline.Token);
                _seen.Add(denial);
                if (match(denial))
                {
                    return denial;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"No matching denial within {timeout.TotalSeconds} s; received: [{string.Join(", ", _seen)}]");
            throw;
        }
    }
}
