using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cleanroom.Gateway.Bench;

/// <summary>nginx serving a directory on loopback with a configuration of its own (sendfile on, no access log).</summary>
internal sealed class NginxServer : IAsyncDisposable
{
    private static readonly string[] Binaries = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"];
    private readonly Process _process;

    private NginxServer(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>nginx's only process (master_process off, one worker in it), for its CPU time.</summary>
    public int Pid => _process.Id;

    public static async Task<NginxServer> StartAsync(string root, string prefix)
    {
        var binary = Binaries.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed: run bench/gateway_cache/run.sh (it installs nginx-light)");
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        var port = FreePort();
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            error_log {{prefix}}/logs/error.log warn;
            pid {{prefix}}/nginx.pid;
            events { worker_connections 1024; }
            http {
              access_log off;
              sendfile on;
              tcp_nopush on;
              keepalive_requests 100000;
              default_type application/octet-stream;
              client_body_temp_path {{prefix}}/body;
              proxy_temp_path {{prefix}}/proxy;
              fastcgi_temp_path {{prefix}}/fastcgi;
              uwsgi_temp_path {{prefix}}/uwsgi;
              scgi_temp_path {{prefix}}/scgi;
              server {
                listen 127.0.0.1:{{port}};
                root {{root}};
              }
            }
            """);
        var process = Process.Start(new ProcessStartInfo(binary, ["-p", prefix, "-c", config]) { RedirectStandardError = true })!;
        var server = new NginxServer(process, new Uri($"http://127.0.0.1:{port}/"));
        var deadline = Stopwatch.StartNew();
        while (!Accepts(port))
        {
            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException("nginx did not start: " + await process.StandardError.ReadToEndAsync());
            }

            await Task.Delay(20);
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
