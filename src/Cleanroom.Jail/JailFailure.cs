using System.Runtime.InteropServices;

namespace Cleanroom.Jail;

/// <summary>A step that could not be done: QEMU is not started, and the launcher exits with <see cref="ExitCode"/>.</summary>
internal sealed class JailFailure(string message) : Exception(message)
{
    /// <summary>The exit code of a launch whose confinement failed (the shell launcher's before it).</summary>
    public const int ExitCode = 125;

    /// <summary>Throws with <paramref name="what"/> and the last system call's error when <paramref name="result"/> is negative.</summary>
    public static void ThrowIfFailed(long result, string what)
    {
        if (result < 0)
        {
            throw new JailFailure(what + ": " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }
    }
}
