using Cleanroom.Daemon.Hosting;

namespace Cleanroom.Daemon.Tests;

/// <summary>The daemon's <c>--listen</c>, <c>--insecure</c> and TLS flags: what is accepted and what stops the start.</summary>
public sealed class ListenerArgumentsTests
{
    private static readonly string[] Required = ["--listen", "/tmp/cr.sock", "--state-dir", "/tmp/cr-state"];

    [Fact]
    public void Listen_is_repeatable_beside_the_one_socket()
    {
        Assert.True(DaemonArguments.TryParse([.. Required, "--listen", "http://127.0.0.1:7777", "--listen", "https://[::1]:8443", "--listen", "https://localhost:0"], out var options, out var error), error);
        Assert.Equal("/tmp/cr.sock", options!.SocketPath);
        Assert.Equal(["http://127.0.0.1:7777", "https://[::1]:8443", "https://localhost:0"], options.Listeners.Select(l => l.Display));
        Assert.All(options.Listeners, l => Assert.True(l.IsLoopback));
    }

    [Fact]
    public void Plain_http_off_loopback_is_refused_without_insecure()
    {
        Assert.False(DaemonArguments.TryParse([.. Required, "--listen", "http://0.0.0.0:7777"], out _, out var error));
        Assert.Contains("--listen http://0.0.0.0:7777", error, StringComparison.Ordinal);
        Assert.Contains("--insecure", error, StringComparison.Ordinal);

        Assert.True(DaemonArguments.TryParse([.. Required, "--listen", "http://0.0.0.0:7777", "--insecure"], out var options, out error), error);
        Assert.True(options!.Insecure);
        Assert.True(DaemonArguments.TryParse([.. Required, "--listen", "https://0.0.0.0:8443"], out _, out error), error);
    }

    [Theory]
    [InlineData("https://example.com:8443", "IP address or localhost")]
    [InlineData("https://127.0.0.1", "give the port")]
    [InlineData("https://127.0.0.1:8443/path", "unix socket, http://HOST:PORT")]
    [InlineData("https://user@127.0.0.1:8443", "unix socket, http://HOST:PORT")]
    public void Malformed_listeners_are_refused_with_the_form_named(string listen, string expected)
    {
        Assert.False(DaemonArguments.TryParse([.. Required, "--listen", listen], out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_sockets_or_none_are_refused()
    {
        Assert.False(DaemonArguments.TryParse([.. Required, "--listen", "/tmp/other.sock"], out _, out var error));
        Assert.Contains("one unix socket", error, StringComparison.Ordinal);
        Assert.False(DaemonArguments.TryParse(["--listen", "https://127.0.0.1:1", "--state-dir", "/tmp/cr-state"], out _, out error));
        Assert.Contains("--listen SOCKET", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_flags_need_each_other_and_an_https_listener()
    {
        var file = Path.GetTempFileName();
        try
        {
            Assert.False(DaemonArguments.TryParse([.. Required, "--listen", "https://127.0.0.1:1", "--tls-cert", file], out _, out var error));
            Assert.Contains("go together", error, StringComparison.Ordinal);
            Assert.False(DaemonArguments.TryParse([.. Required, "--listen", "http://127.0.0.1:1", "--tls-client-ca", file], out _, out error));
            Assert.Contains("need an https://", error, StringComparison.Ordinal);
            Assert.True(DaemonArguments.TryParse([.. Required, "--listen", "https://127.0.0.1:1", "--tls-cert", file, "--tls-key", file, "--tls-client-ca", file], out var options, out error), error);
            Assert.Equal(file, options!.TlsClientCaFile);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
