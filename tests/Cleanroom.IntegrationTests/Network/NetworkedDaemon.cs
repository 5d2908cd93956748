using System.Diagnostics;
using System.Text;
using Cleanroom.TestSupport;

namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// The installed daemon (.build/bin/cleanroom serve) with sandbox networking on, run inside a network namespace of its
/// own ("host"), next to a small internet in another namespace: a DNS server (dnsmasq, whose query log tests read)
/// for the zone <c>test</c>, and TCP services on two addresses. Nothing is sent anywhere else. Disposing stops the
/// daemon and removes both namespaces, failing if a TAP device was left behind.
/// </summary>
public sealed class NetworkedDaemon : IAsyncDisposable
{
    public const string WebAddress = "10.250.0.2";     // allowed.test, cohosted.test
    public const string OtherAddress = "10.250.0.3";   // other.test
    public const string DnsAddress = "10.250.0.53";
    public const string WebAddress6 = "fd99::2";      // allowed.test, cohosted.test (AAAA)
    public const string OtherAddress6 = "fd99::3";    // other.test (AAAA)
    public const int UdpEchoPort = 7;                  // on OtherAddress

    // A dual-stack HTTPS file server: python3 -c HttpsServer DIRECTORY (DIRECTORY holds cert.pem and key.pem).
    private const string HttpsServer = """
        import functools, http.server, socket, ssl, sys
        class Server(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")
        server = Server(("::", 443), functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """;

    private readonly List<Process> _servers = [];
    private readonly string[] _daemonArguments;
    private Process? _daemon;

    private NetworkedDaemon(string[] daemonArguments)
    {
        _daemonArguments = daemonArguments;
        Host = NetworkNamespace.Create("dhost");
        Internet = NetworkNamespace.Create("inet");
        StateDir = Directory.CreateTempSubdirectory("cr-net-state-").FullName;
        SocketDir = Directory.CreateTempSubdirectory("cr-net-sock-").FullName;
        File.SetUnixFileMode(SocketDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        QueryLog = Path.Combine(StateDir, "..", Path.GetFileName(StateDir) + "-dnsmasq.log");
    }

    public NetworkNamespace Host { get; }

    public NetworkNamespace Internet { get; }

    public string StateDir { get; }

    public string SocketDir { get; }

    public string SocketPath => Path.Combine(SocketDir, "cleanroom.sock");

    /// <summary>dnsmasq's log of every query it received.</summary>
    public string QueryLog { get; }

    /// <summary>Builds the test internet and starts the daemon with <paramref name="daemonArguments"/> added to <c>serve</c>.</summary>
    public static async Task<NetworkedDaemon> StartAsync(params string[] daemonArguments)
    {
        var daemon = new NetworkedDaemon(daemonArguments);
        try
        {
            daemon.BuildInternet();
            await daemon.StartDaemonAsync();
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs the installed CLI against this daemon (outside any repository); returns its exit code and output.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args) => InstalledCli.RunAsync(SocketPath, null, args);

    /// <summary>Kills the daemon with SIGKILL (its VMs keep running), as a crash would.</summary>
    public async Task CrashAsync()
    {
        var daemonPid = ProcessTree.ChildrenOf(_daemon!.Id).Single();
        Process.GetProcessById(daemonPid).Kill();
        _daemon.Kill();
        await _daemon.WaitForExitAsync();
        _daemon.Dispose();
        _daemon = null;
    }

    /// <summary>Starts the daemon again on the same state.</summary>
    public Task RestartAsync() => StartDaemonAsync();

    /// <summary>Starts a server process in the test internet; it is killed when the daemon is disposed.</summary>
    public Process StartInInternet(params string[] command)
    {
        var process = Internet.Start(command);
        _servers.Add(process);
        return process;
    }

    /// <summary>Waits until something in the test internet listens on TCP <paramref name="port"/>.</summary>
    public void WaitForInternetPort(int port) =>
        WaitFor(() => Internet.Run("ss", "-ltnH").Contains($":{port} ", StringComparison.Ordinal), $"the test internet's server on port {port}");

    /// <summary>TAP devices in the daemon's namespace.</summary>
    public IReadOnlyList<string> Taps() =>
        Host.Run("ip", "-o", "link", "show").Split('\n').Select(l => l.Split(':', 3)).Where(p => p.Length == 3).Select(p => p[1].Trim().Split('@')[0]).Where(n => n.StartsWith("crtap", StringComparison.Ordinal)).ToList();

    /// <summary>The daemon's nftables table as <c>nft list</c> prints it.</summary>
    public string FirewallTable() => Host.Run("nft", "list", "table", "inet", "cleanroom");

    public async ValueTask DisposeAsync()
    {
        string? leak = null;
        if (_daemon is not null)
        {
            Posix(_daemon.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _daemon.WaitForExitAsync(timeout.Token);
            var exitCode = _daemon.ExitCode;
            _daemon.Dispose();
            var taps = Taps();
            var table = Host.Run("nft", "list", "tables");
            leak = taps.Count > 0 ? "the daemon left TAP devices: " + string.Join(", ", taps)
                : table.Contains("inet cleanroom", StringComparison.Ordinal) ? "the daemon left its nftables table after SIGTERM"
                : exitCode != 0 ? $"the daemon exited {exitCode} on SIGTERM (a clean shutdown exits 0)"
                : null;
        }

        foreach (var server in _servers)
        {
            server.Kill(entireProcessTree: true);
            server.Dispose();
        }

        Internet.Dispose();
        Host.Dispose();
        Directory.Delete(StateDir, recursive: true);
        if (Directory.Exists(StateDir + "-web"))
        {
            Directory.Delete(StateDir + "-web", recursive: true);
        }

        Directory.Delete(SocketDir, recursive: true);
        File.Delete(QueryLog);
        if (leak is not null)
        {
            throw new InvalidOperationException(leak);
        }
    }

    private static string Cli => InstalledCli.Path;

    private void BuildInternet()
    {
        NetworkNamespace.Host("ip", "link", "add", "cr-up", "netns", Host.Name, "type", "veth", "peer", "name", "cr-down", "netns", Internet.Name);
        Host.Run("ip", "addr", "add", "10.250.0.1/24", "dev", "cr-up");
        Host.Run("ip", "link", "set", "cr-up", "up");
        foreach (var address in new[] { WebAddress, OtherAddress, DnsAddress })
        {
            Internet.Run("ip", "addr", "add", address + "/24", "dev", "cr-down");
        }

        // IPv6 too: the daemon's namespace gets a default route, so --ipv6 auto gives guests IPv6.
        Host.Run("ip", "-6", "addr", "add", "fd99::1/64", "dev", "cr-up", "nodad");
        foreach (var address in new[] { WebAddress6, OtherAddress6 })
        {
            Internet.Run("ip", "-6", "addr", "add", address + "/64", "dev", "cr-down", "nodad");
        }

        Internet.Run("ip", "link", "set", "cr-down", "up");
        Internet.Run("ip", "route", "add", "default", "via", "10.250.0.1");
        Internet.Run("ip", "-6", "route", "add", "default", "via", "fd99::1");
        Host.Run("ip", "-6", "route", "add", "default", "via", "fd99::2");
        _servers.Add(Internet.Start(
            "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=" + DnsAddress,
            "--address=/allowed.test/" + WebAddress, "--address=/cohosted.test/" + WebAddress, "--address=/other.test/" + OtherAddress,
            "--address=/allowed.test/" + WebAddress6, "--address=/cohosted.test/" + WebAddress6, "--address=/other.test/" + OtherAddress6,
            "--address=/wild.test/" + WebAddress,
            "--log-queries", "--log-facility=" + QueryLog, "--pid-file="));
        foreach (var port in new[] { 80, 81 })
        {
            var root = Directory.CreateDirectory(Path.Combine(StateDir + "-web", port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            File.WriteAllText(Path.Combine(root.FullName, "index.html"), $"web{port}\n");
            // "::" serves both families (bindv6only is 0).
            _servers.Add(Internet.Start("python3", "-m", "http.server", "--bind", "::", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--directory", root.FullName));
        }

        // HTTPS on the web address for the server-name checks: one certificate for both names it serves.
        var tls = Directory.CreateDirectory(Path.Combine(StateDir + "-web", "tls")).FullName;
        WriteCertificate(Path.Combine(tls, "cert.pem"), Path.Combine(tls, "key.pem"), "allowed.test", "cohosted.test");
        File.WriteAllText(Path.Combine(tls, "index.html"), "web443\n");
        _servers.Add(Internet.Start("python3", "-c", HttpsServer, tls));

        // UDP echo on the other address.
        _servers.Add(Internet.Start("socat", $"UDP-RECVFROM:{UdpEchoPort},bind={OtherAddress},fork", "PIPE"));
        WaitFor(() => Internet.Run("ss", "-ltnH") is var tcp && tcp.Contains(":81 ", StringComparison.Ordinal) && tcp.Contains(":443 ", StringComparison.Ordinal)
            && Internet.Run("ss", "-lunH") is var udp && udp.Contains(":53 ", StringComparison.Ordinal) && udp.Contains($":{UdpEchoPort} ", StringComparison.Ordinal),
            "the test internet's servers");
    }

    private async Task StartDaemonAsync()
    {
        // nsenter, not `ip netns exec`: the latter remounts /sys, which would hide the cgroup hierarchies the daemon
        // confines VMs with. Only the network namespace differs from a daemon on the host.
        var start = new ProcessStartInfo("nsenter", ["--net=/run/netns/" + Host.Name, Cli, "serve", "--listen", SocketPath, "--state-dir", StateDir,
            "--assets", RepoPaths.Assets, "--network", "on", "--dns-upstream", DnsAddress, "--on-stop", "stop",
            .. _daemonArguments.Contains("--templates") ? Array.Empty<string>() : ["--templates", "off"], .. _daemonArguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var log = new StringBuilder();
        _daemon = Process.Start(start)!;
        _daemon.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        _daemon.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        _daemon.BeginOutputReadLine();
        _daemon.BeginErrorReadLine();
        // Up when the socket accepts a connection: after a crash the old socket file is still there.
        var deadline = Stopwatch.StartNew();
        while (!await AcceptsAsync(SocketPath))
        {
            if (_daemon.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException("the networked daemon did not start:\n" + log);
            }

            await Task.Delay(20);
        }
    }

    private static async Task<bool> AcceptsAsync(string socketPath)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static void WriteCertificate(string certificatePath, string keyPath, params string[] names)
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=" + names[0], key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var alternative = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            alternative.AddDnsName(name);
        }

        request.CertificateExtensions.Add(alternative.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }

    private static void Posix(int pid, int signal) => NetworkNamespace.Host("kill", "-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new TimeoutException(what + " did not come up");
            }

            Thread.Sleep(20);
        }
    }
}
