using System.Diagnostics;
using System.Net.Sockets;

namespace Cleanroom.Policy.Tests;

/// <summary>Creates the kinds of directory entry a hostile repository can hold besides regular files.</summary>
internal static class SpecialFiles
{
    public static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        mkfifo.WaitForExit();
        Assert.True(mkfifo.ExitCode == 0, "mkfifo failed: " + mkfifo.StandardError.ReadToEnd());
    }

    /// <summary>A bound unix socket; .NET removes its node when the returned socket is disposed.</summary>
    public static Socket MakeSocket(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }
}
