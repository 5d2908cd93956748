namespace Cleanroom.Vm;

/// <summary>A VM could not be started, reached, or stopped. The message is meant for the user.</summary>
public sealed class VmException : Exception
{
    public VmException()
    {
    }

    public VmException(string message)
        : base(message)
    {
    }

    public VmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
