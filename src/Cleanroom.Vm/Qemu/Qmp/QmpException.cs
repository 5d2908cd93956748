namespace Cleanroom.Vm.Qemu.Qmp;

/// <summary>The QMP peer answered with an error, broke the protocol, went silent, or disconnected.</summary>
public sealed class QmpException : Exception
{
    public QmpException()
    {
    }

    public QmpException(string message)
        : base(message)
    {
    }

    public QmpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public QmpException(string message, string? errorClass)
        : base(message)
    {
        ErrorClass = errorClass;
    }

    /// <summary>QMP's error class (e.g. "CommandNotFound") when the peer answered with an error; else null.</summary>
    public string? ErrorClass { get; }
}
