using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;

namespace Cleanroom.GuestAgent.Channel;

/// <summary>
/// Serves the host over the port, one connection after another, on one descriptor held open throughout. While no
/// host is connected the port reads end of file at once (poll cannot wait for a host either: it reports a hang-up),
/// so each attempt is cheap and the pause between attempts keeps that from spinning. Returns when the host asks for
/// shutdown.
/// </summary>
internal sealed class AgentLoop
{
    public const string Software = "cleanroom-guest-agent/1";
    // Short: a VM restored from a template waits here for its first host, and every millisecond of it is create
    // latency. The loop only runs while no host is connected (the daemon stays connected to a ready sandbox).
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(10);

    // After this many attempts in a row found no host (two seconds and more), the host is not about to come: its
    // daemon stopped or died. Each attempt costs the guest a connection's setup, which under TCG made a VM left
    // waiting burn 13-30 % of a host core at 10 ms; at 100 ms it is a tenth of that, and a daemon that comes back
    // waits at most that long for its agent. Counted in attempts, not time: a restored VM's clock says nothing about
    // how long it has waited, and a template is snapshotted a few attempts after its host left.
    private const int FastAttempts = 200;
    private static readonly TimeSpan IdleRetryDelay = TimeSpan.FromMilliseconds(100);
    private readonly string _device;
    private readonly IExecHandler _handler;
    private readonly WireLimits _limits;
    private readonly BootConfiguration? _configuration;

    // One table for every connection: a command outlives its host's connection, for the next host to take over.
    private readonly SessionTable _sessions = new(durable: true);

    /// <param name="configuration">
    /// A template boot's pending configuration, shared by every connection (a reconnecting host finds the guest as
    /// the last one left it); null when the guest booted with its settings.
    /// </param>
    public AgentLoop(string device, IExecHandler handler, WireLimits limits, BootConfiguration? configuration = null)
    {
        _device = device;
        _handler = handler;
        _limits = limits;
        _configuration = configuration;
    }

    /// <summary>
    /// The pause before the next attempt, after <paramref name="emptyAttempts"/> in a row found no host.
    /// <paramref name="hostLeftSandbox"/>: a host that served this guest as a sandbox came and went, so its daemon
    /// stopped or died and the next one comes in a second at the soonest. Every VM of that daemon waits at once then,
    /// and ten of them looking every 10 ms took both cores of a TCG host from the daemon trying to start (a restart
    /// with 10 sandboxes took 7 s instead of 1). A template's guest is not a sandbox until configured: its clones
    /// keep the fast loop for their first host.
    /// </summary>
    internal static TimeSpan DelayAfter(int emptyAttempts, bool hostLeftSandbox = false) =>
        !hostLeftSandbox && emptyAttempts < FastAttempts ? RetryDelay : IdleRetryDelay;

    public async Task RunUntilShutdownAsync(CancellationToken cancellationToken)
    {
        using var port = VirtioPort.Open(_device);
        var emptyAttempts = 0;
        var hostLeftSandbox = false;
        while (true)
        {
            SessionEnd end;
            long received = 0;
            try
            {
                using var stream = port.NewConnection();
                try
                {
                    end = await new AgentServer(stream, _handler, _limits, Software) { Configuration = _configuration, Sessions = _sessions }.RunAsync(cancellationToken);
                }
                finally
                {
                    received = stream.BytesRead;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
            {
                AgentLog.Error($"connection on {_device} failed: {ex.Message}");
                end = SessionEnd.PeerClosed;
            }

            if (end == SessionEnd.ShutdownRequested)
            {
                return;
            }

            if (received > 0)
            {
                AgentLog.Info("host disconnected; waiting for the next connection");
            }

            emptyAttempts = received > 0 ? 0 : emptyAttempts + 1;
            hostLeftSandbox |= received > 0 && _configuration is not { IsConfigured: false };
            await Task.Delay(DelayAfter(emptyAttempts, hostLeftSandbox), cancellationToken);
        }
    }
}
