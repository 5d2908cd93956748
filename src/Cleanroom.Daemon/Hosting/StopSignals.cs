namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// What a SIGINT or SIGTERM means to the daemon: the first asks for a graceful stop; one more, a while later, ends the
/// daemon at once. Signals arriving shortly after the first are the same request delivered twice, not a second one:
/// <c>cleanroom serve</c> passes its own SIGTERM on, and whoever signalled it often signalled the daemon too (Ctrl-C
/// reaches the terminal's whole process group, systemd's default stop signals every process of the unit, so does
/// <c>pkill</c>). Taking that copy as "now, at once" killed the daemon in the middle of stopping its sandboxes, leaving
/// their VMs, TAP devices and firewall rules behind.
/// </summary>
internal sealed class StopSignals(TimeProvider time)
{
    /// <summary>Signals this soon after the first are copies of it.</summary>
    public static readonly TimeSpan DuplicateWindow = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private long? _first;

    /// <summary>True when this signal must end the process now (a repeated request); false to stop, or keep stopping, gracefully.</summary>
    public bool Receive()
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (_first is not { } first)
            {
                _first = now;
                return false;
            }

            return time.GetElapsedTime(first, now) >= DuplicateWindow;
        }
    }
}
