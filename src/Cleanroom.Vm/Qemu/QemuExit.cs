using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Qemu;

/// <summary>What both kinds of <see cref="IQemuProcess"/> do alike: wait for the exit within a time, describe the output.</summary>
internal static class QemuExit
{
    /// <summary>Waits for <paramref name="exited"/> up to <paramref name="timeout"/>; true if the process has exited.</summary>
    public static async Task<bool> WithinAsync(Task<int> exited, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await exited.WaitAsync(timeout, ct);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The stderr part as given, then the last lines of the console, for error messages.</summary>
    public static string Describe(string stderr, StreamCapture console, int lines)
    {
        var consoleTail = TextSanitizer.LastLines(console.PrintableText(), lines);
        return stderr + $"guest console (last lines):\n{(consoleTail.Length > 0 ? consoleTail : "  (empty)")}";
    }
}
