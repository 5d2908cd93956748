namespace Cleanroom.Network.Conntrack;

/// <summary>
/// An address still has tracked connections after <see cref="ConntrackFlows"/> spent its budget on them: handing the
/// address to another sandbox would hand it those connections.
/// </summary>
public sealed class ConntrackFlowsRemainException : Exception
{
    public ConntrackFlowsRemainException()
    {
    }

    public ConntrackFlowsRemainException(string message)
        : base(message)
    {
    }

    public ConntrackFlowsRemainException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
