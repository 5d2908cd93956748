using Cleanroom.Escaping;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>A tool could not do its job (exit 1); the message is the one line the host shows or maps.</summary>
internal sealed class ToolException : Exception
{
    public ToolException()
    {
    }

    public ToolException(string message)
        : base(message)
    {
    }

    public ToolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// The error for a failed call on <paramref name="path"/>. A missing path always reads
    /// <c>no such file or directory: PATH</c>: the host recognises that phrase at the start of the line. The path is
    /// escaped (<see cref="UntrustedText"/>): a name's control characters or bytes that are not UTF-8 show as escapes.
    /// </summary>
    public static ToolException FromErrno(int errno, string operation, string path) =>
        errno == Errno.ENOENT
            ? new ToolException($"no such file or directory: {UntrustedText.Escape(path)}")
            : new ToolException($"{operation} {UntrustedText.Escape(path)}: {Errno.Describe(errno)}");
}
