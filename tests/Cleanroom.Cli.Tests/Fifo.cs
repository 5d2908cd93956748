using System.Diagnostics;

namespace Cleanroom.Cli.Tests;

/// <summary>Named pipes: opening one for reading waits for a writer, which is what a hostile repository exploits.</summary>
internal static class Fifo
{
    public static string Make(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        mkfifo.WaitForExit();
        Assert.True(mkfifo.ExitCode == 0, "mkfifo failed: " + mkfifo.StandardError.ReadToEnd());
        return path;
    }
}
