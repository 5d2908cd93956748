using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>
/// Whether this guest still waits for its sandbox's settings. It belongs to the guest's lifetime, not to one
/// connection: the agent serves connection after connection (a new <see cref="AgentServer"/> each) with the same
/// instance, so a reconnecting host finds the guest configured and cannot configure it twice.
/// </summary>
public sealed class BootConfiguration
{
    public const string NotWaitingError = "this guest is not waiting for configuration";
    public const string AlreadyConfiguredError = "this guest is already configured";
    public const string NotConfiguredError = "the guest is not configured yet (the host must send its configuration first)";

    private readonly IBootConfigurator _configurator;
    private readonly Lock _lock = new();
    private volatile bool _configured;
    private int _hosts;

    public BootConfiguration(IBootConfigurator configurator)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        _configurator = configurator;
    }

    /// <summary>True once a configure succeeded; from then on the guest runs commands and refuses configuring.</summary>
    public bool IsConfigured => _configured;

    /// <summary>A host's hello was answered: tells the configurator while the guest still waits.</summary>
    internal void HostArrived()
    {
        var host = Interlocked.Increment(ref _hosts);
        if (!_configured)
        {
            _configurator.HostArrived(host);
        }
    }

    /// <summary>
    /// Runs the configurator unless the guest is already configured. Returns "" on success, else the error to send to
    /// the host. A configurator that throws is reported like one that returned an error.
    /// </summary>
    internal string Apply(ConfigureMessage message)
    {
        lock (_lock)
        {
            if (_configured)
            {
                return AlreadyConfiguredError;
            }

            string? error;
            try
            {
                error = _configurator.Configure(message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                error = "configuration failed: " + ex.Message;
            }

            if (error is null)
            {
                _configured = true;
                return "";
            }

            return error.Length == 0 ? "configuration failed" : error;
        }
    }
}
