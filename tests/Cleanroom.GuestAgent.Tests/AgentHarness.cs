using System.Net.Sockets;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Exec;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// A real host↔agent connection in one process: an <see cref="AgentClient"/> and an <see cref="AgentServer"/> running
/// the agent's exec handler, joined by a connected unix-socket pair.
/// </summary>
internal sealed class AgentHarness : IAsyncDisposable
{
    private readonly string _directory;

    private AgentHarness(string directory, AgentClient client, Task<SessionEnd> server)
    {
        _directory = directory;
        Client = client;
        Server = server;
    }

    public AgentClient Client { get; }

    /// <summary>The server's RunAsync: completes when the connection ends.</summary>
    public Task<SessionEnd> Server { get; }

    /// <summary>The agent binary next to the tests (framework-dependent apphost), for the exec-as mode.</summary>
    public static string AgentExecutable => Path.Combine(AppContext.BaseDirectory, "cleanroom-guest-agent");

    public static async Task<AgentHarness> StartAsync(ExecOptions? options = null)
    {
        var directory = Directory.CreateTempSubdirectory("cleanroom-agent-test-").FullName;
        var endpoint = new UnixDomainSocketEndPoint(Path.Combine(directory, "agent.sock"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(1);
        var hostSocket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await hostSocket.ConnectAsync(endpoint);
        var guestSocket = await listener.AcceptAsync();

        var handler = new ExecHandler(options ?? new ExecOptions { SelfExecutable = AgentExecutable }, GuestFileSystem.Instance, ChildReaper.Shared);
        var server = new AgentServer(new NetworkStream(guestSocket, ownsSocket: true), handler, WireLimits.Default, "test-agent");
        var serverTask = Task.Run(() => server.RunAsync(CancellationToken.None));
        var client = await AgentClient.ConnectAsync(new NetworkStream(hostSocket, ownsSocket: true), WireLimits.Default, TimeSpan.FromSeconds(10), CancellationToken.None);
        return new AgentHarness(directory, client, serverTask);
    }

    public static ExecRequest Shell(string script, params string[] env) =>
        new() { Argv = ["/bin/sh", "-c", script], Env = env };

    /// <summary>Runs to completion: optional interaction, then stdin is closed and all output collected.</summary>
    public async Task<ProcessResult> RunAsync(ExecRequest request, Func<GuestProcess, Task>? interact = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var process = await Client.StartAsync(request, cts.Token);
        var collect = CollectAsync(process, cts.Token);
        if (interact is not null)
        {
            await interact(process);
        }

        await process.CloseStdinAsync(cts.Token);
        var (stdout, stderr) = await collect;
        var exit = await process.Exited.WaitAsync(cts.Token);
        return new ProcessResult(stdout, stderr, exit);
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the host side is what ends the server: it reads end of file and cancels its processes.
        await Client.DisposeAsync();
        await Server.WaitAsync(TimeSpan.FromSeconds(10));
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<(byte[] Stdout, byte[] Stderr)> CollectAsync(GuestProcess process, CancellationToken cancellationToken)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        while (await process.ReadOutputAsync(cancellationToken) is { } chunk)
        {
            (chunk.Stream == OutputStreamKind.Stdout ? stdout : stderr).Write(chunk.Data.Span);
        }

        return (stdout.ToArray(), stderr.ToArray());
    }
}
