using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Tests.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>
/// A real recursive resolver for the filter to ask: dnsmasq on 127.0.0.1 with fixed local answers and its query log in
/// a file, so tests can see exactly which names reached the upstream. Killed (by its own process id) on dispose.
/// </summary>
public sealed class DnsmasqUpstream : IAsyncLifetime
{
    private const string Binary = "/usr/sbin/dnsmasq";

    /// <summary>Three 250-byte TXT strings: bigger than a 512-byte UDP answer, small enough for TCP.</summary>
    public static readonly string BigTxtString = new('t', 250);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "cleanroom-dns-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    public IPEndPoint Endpoint { get; private set; } = null!;

    private string LogPath => Path.Combine(_directory, "queries.log");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var failures = new List<string>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var port = FreeUdpAndTcpPort();
            _process = Process.Start(StartInfo(port)) ?? throw new InvalidOperationException("dnsmasq did not start");
            Endpoint = new IPEndPoint(IPAddress.Loopback, port);
            if (await AnswersAsync())
            {
                return;
            }

            // Another process may have taken the port in the meantime: dnsmasq then exits saying so.
            failures.Add($"port {port}: {await DisposeProcessAsync()}");
        }

        throw new InvalidOperationException("dnsmasq did not come up: " + string.Join("; ", failures) + " " + Log);
    }

    public async Task DisposeAsync()
    {
        await DisposeProcessAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The query log so far.</summary>
    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : string.Empty;

    /// <summary>Waits until the log mentions <paramref name="fragment"/> (dnsmasq writes its log a moment after it answers).</summary>
    public async Task WaitForLogAsync(string fragment, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (!Log.Contains(fragment, StringComparison.Ordinal))
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    private ProcessStartInfo StartInfo(int port)
    {
        var info = new ProcessStartInfo(Binary) { RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file=", "--user=root",
            "--listen-address=127.0.0.1", $"--port={port}", "--bind-interfaces", "--local-ttl=600",
            "--address=/allowed.test/10.1.2.3", "--address=/allowed.test/fd00::123",
            "--address=/other.test/10.9.9.9", "--address=/wild.test/10.4.4.4",
            "--cname=www.cnamed.test,edge.cdn.test", "--host-record=edge.cdn.test,10.7.7.7",
            "--txt-record=txt.other.test,hello,world",
            $"--txt-record=big.other.test,{BigTxtString},{BigTxtString},{BigTxtString}",
            "--log-queries", $"--log-facility={LogPath}",
        })
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    private async Task<bool> AnswersAsync()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(Endpoint);
        var buffer = new byte[512];
        for (var i = 0; i < 50 && !_process!.HasExited; i++)
        {
            await socket.SendAsync(WireBytes.Concat(WireBytes.Header(id: (ushort)i), WireBytes.Question("ready.allowed.test")), SocketFlags.None);
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            try
            {
                await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                return true;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                // Not listening yet (refused) or not answering yet: ask again.
            }
        }

        return false;
    }

    // Ends dnsmasq and returns what it said on stderr.
    private async Task<string> DisposeProcessAsync()
    {
        if (_process is null)
        {
            return string.Empty;
        }

        if (!_process.HasExited)
        {
            _process.Kill();
        }

        var errors = await _process.StandardError.ReadToEndAsync();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
        return errors.Trim();
    }

    private static int FreeUdpAndTcpPort()
    {
        while (true)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken for UDP: try another.
            }
        }
    }
}
