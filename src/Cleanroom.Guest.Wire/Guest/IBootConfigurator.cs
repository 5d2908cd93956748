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
}
