using Microsoft.Extensions.Hosting;

namespace Cleanroom.Gateway.Server;

/// <summary>
/// A host lifetime that does nothing: the gateway's web host lives inside the daemon, which owns the process's
/// signals and decides when the gateway stops (by disposing it).
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
