using System.Net.Sockets;
using System.Text;

namespace Cleanroom.Vm.Tests.Support;

/// <summary>
/// A scripted QMP peer on a unix socket: accepts one client and runs <c>script</c> with line-oriented helpers.
/// It speaks QMP's published wire format (JSON lines); nothing QEMU-specific beyond that.
/// </summary>
internal sealed class FakeQmpServer : IAsyncDisposable
{
    public const string Greeting =
        """{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}""";

    private readonly Socket _listener;
    private readonly Task _run;

    public FakeQmpServer(string path, Func<Peer, Task> script)
    {
        Path = path;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(1);
        _run = RunAsync(script);
    }

    public string Path { get; }

    /// <summary>Lines the client sent, in order.</summary>
    public List<string> Received { get; } = [];

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client under test may legitimately hang up first.
        }
    }

    private async Task RunAsync(Func<Peer, Task> script)
    {
        using var client = await _listener.AcceptAsync();
        await using var stream = new NetworkStream(client, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await script(new Peer(stream, reader, Received));
    }

    internal sealed class Peer(NetworkStream stream, StreamReader reader, List<string> received)
    {
        public async Task SendAsync(string line) => await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"));

        public async Task SendRawAsync(byte[] bytes) => await stream.WriteAsync(bytes);

        public async Task<string?> ReceiveAsync()
        {
            var line = await reader.ReadLineAsync();
            if (line is not null)
            {
                received.Add(line);
            }

            return line;
        }

        /// <summary>Greeting plus a successful capabilities negotiation.</summary>
        public async Task HandshakeAsync()
        {
            await SendAsync(Greeting);
            await ReceiveAsync();
            await SendAsync("""{"return": {}}""");
        }
    }
}
