namespace Cleanroom.Guest.Wire;

/// <summary>
/// The guest agent refused or failed a configure request. Not a protocol break: the connection stays usable. The
/// message carries the guest's words, escaped and bounded as every guest string is where it enters the host.
/// </summary>
public sealed class AgentConfigureException : Exception
{
    public AgentConfigureException(string message)
        : base(message)
    {
    }

    public AgentConfigureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public AgentConfigureException()
        : base("the guest agent refused the configuration")
    {
    }
}
