namespace Cleanroom.Client.Sdk;

/// <summary>
/// A command could not be run or followed to its end: the sandbox or daemon refused it, or the output stream broke
/// before the exit status was known. <see cref="Exception.Message"/> is what the daemon or transport said.
/// </summary>
public sealed class ExecFailedException : Exception
{
    /// <summary>An exec failure without details.</summary>
    public ExecFailedException()
        : base("the command could not be run")
    {
    }

    /// <summary>An exec failure saying why.</summary>
    public ExecFailedException(string message)
        : base(message)
    {
    }

    /// <summary>An exec failure saying why, caused by <paramref name="innerException"/>.</summary>
    public ExecFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The execution's id when it had started; null otherwise.</summary>
    public string? ExecutionId { get; init; }
}
