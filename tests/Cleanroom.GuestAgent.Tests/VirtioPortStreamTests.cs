using System.Net.Sockets;
using System.Text;
using Cleanroom.GuestAgent.Channel;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// The port stream's connection semantics, on a non-blocking socket pair standing in for the port: end of file hangs
/// the connection up for good, so nothing written afterwards can reach a later host.
/// </summary>
public sealed class VirtioPortStreamTests : IDisposable
{
    private readonly Socket _host;
    private readonly Socket _guest;
    private readonly VirtioPortStream _stream;

    public VirtioPortStreamTests()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cr-port-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        _host = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _host.Connect(new UnixDomainSocketEndPoint(path));
        _guest = listener.Accept();
        File.Delete(path);
        _guest.Blocking = false;
        _stream = new VirtioPortStream((int)_guest.SafeHandle.DangerousGetHandle());
    }

    [Fact]
    public async Task Reads_wait_for_data_and_writes_arrive()
    {
        var buffer = new byte[16];
        var read = _stream.ReadAsync(buffer).AsTask();
        await Task.Delay(50);
        Assert.False(read.IsCompleted);
        _host.Send(Encoding.ASCII.GetBytes("ping"));
        Assert.Equal(4, await read.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(4, _stream.BytesRead);

        await _stream.WriteAsync(Encoding.ASCII.GetBytes("pong"));
        var reply = new byte[4];
        Assert.Equal(4, _host.Receive(reply));
        Assert.Equal("pong", Encoding.ASCII.GetString(reply));
    }

    [Fact]
    public async Task End_of_file_hangs_up_the_connection_for_writes()
    {
        _host.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await _stream.ReadAsync(new byte[16]));
        var error = await Assert.ThrowsAsync<IOException>(async () => await _stream.WriteAsync(new byte[] { 1 }));
        Assert.Equal("the host disconnected", error.Message);
    }

    [Fact]
    public async Task Cancelling_a_read_abandons_the_stream()
    {
        using var cts = new CancellationTokenSource();
        var read = _stream.ReadAsync(new byte[16], cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    public void Dispose()
    {
        _stream.Dispose();
        _guest.Dispose();
        _host.Dispose();
    }
}
