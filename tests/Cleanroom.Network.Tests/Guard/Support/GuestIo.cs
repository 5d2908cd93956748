using System.Net.Sockets;
using System.Text;

namespace Cleanroom.Network.Tests.Guard.Support;

/// <summary>What a guest does with its connection, with deadlines so a hung guard fails the test instead of hanging it.</summary>
internal static class GuestIo
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static Task SendAsync(Socket socket, string text) => socket.SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Reads until the peer closes: the text, and whether it ended with a reset rather than a clean close.</summary>
    public static async Task<(string Text, bool Reset)> ReadToEndAsync(Socket socket)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
            {
                text.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            return (text.ToString(), false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return (text.ToString(), true);
        }
    }

    /// <summary>Reads until <paramref name="expected"/> has arrived.</summary>
    public static async Task<string> ReadUntilAsync(Socket socket, string expected)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (!text.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            Assert.True(n > 0, $"closed after '{text}', before '{expected}'");
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    /// <summary>Waits for a condition on counters the guard updates from its own tasks.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (!condition())
        {
            Assert.True(await tick.WaitForNextTickAsync(CancellationToken.None) && !deadline.IsCancellationRequested, $"timed out waiting until {what}");
        }
    }
}
