using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>
/// Applies a sandbox's settings to a guest restored from a template (the agent implements this). Called at most
/// until it succeeds once, never concurrently; see <see cref="BootConfiguration"/>.
/// </summary>
public interface IBootConfigurator
{
    /// <summary>Applies <paramref name="message"/>; returns null on success or a one-line error.</summary>
    string? Configure(ConfigureMessage message);

    /// <summary>
    /// A host greeted the still-waiting guest; <paramref name="host"/> counts the hosts since boot, from 1. The first is
    /// the one a template is built for; a later one comes to a VM restored from the template's snapshot (or to a
    /// waiting clone whose host left).
    /// </summary>
    void HostArrived(int host)
    {
    }
}
