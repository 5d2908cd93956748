using Cleanroom.HostProcesses;

namespace Cleanroom.Network.Firewall;

/// <summary>
/// The one place nft runs: each script is one <c>nft -f -</c> invocation, so it applies atomically or not at all,
/// and scripts never interleave.
/// </summary>
public sealed class NftExecutor(string nftPath = "nft") : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Applies <paramref name="script"/>; throws <see cref="HostCommandException"/> with nft's error.</summary>
    public async Task ApplyAsync(string script, CancellationToken ct)
    {
        if (script.Length == 0)
        {
            return;
        }

        await _gate.WaitAsync(ct);
        try
        {
            await HostCommand.RunAsync(nftPath, ["-f", "-"], Timeout, ct, script);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
