using System.Security.Cryptography.X509Certificates;
using Cleanroom.Daemon.Hosting;

namespace Cleanroom.Daemon.Tests;

/// <summary>The self-signed certificate the daemon makes for https listeners when given none, and keeps.</summary>
public sealed class ServerCertificateTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("cr-cert-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private DaemonOptions Options(params string[] listens) =>
        new() { SocketPath = Path.Combine(_state, "d.sock"), StateDir = _state, Listeners = listens.Select(ListenerSpec.Parse).ToList() };

    [Fact]
    public void A_generated_pair_that_no_longer_loads_is_replaced_instead_of_stopping_every_start()
    {
        var first = ServerCertificate.Load(Options("https://127.0.0.1:8443"));
        // As a crash between writing the new key and the new certificate leaves them: a key that matches nothing.
        File.WriteAllText(Path.Combine(_state, "tls", "server.key"), "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");

        var second = ServerCertificate.Load(Options("https://127.0.0.1:8443"));

        Assert.True(second.Generated);
        Assert.NotEqual(first.Fingerprint, second.Fingerprint);
        Assert.False(ServerCertificate.Load(Options("https://127.0.0.1:8443")).Generated);
    }

    [Fact]
    public void The_first_start_generates_a_p256_certificate_private_to_the_daemon_and_the_second_reuses_it()
    {
        var first = ServerCertificate.Load(Options("https://10.1.2.3:8443"));
        Assert.True(first.Generated);
        using (var key = first.Certificate.GetECDsaPublicKey())
        {
            Assert.Equal(256, Assert.IsAssignableFrom<System.Security.Cryptography.ECDsa>(key).KeySize);
        }

        var san = first.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["localhost"], san.EnumerateDnsNames());
        Assert.Equal(["127.0.0.1", "::1", "10.1.2.3"], san.EnumerateIPAddresses().Select(a => a.ToString()));
        foreach (var file in new[] { "server.pem", "server.key" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_state, "tls", file)));
        }

        var second = ServerCertificate.Load(Options("https://10.1.2.3:8443"));
        Assert.False(second.Generated);
        Assert.Equal(first.Fingerprint, second.Fingerprint);
        Assert.Equal(64, second.Fingerprint.Length);
    }

    [Fact]
    public void A_listen_host_the_kept_certificate_does_not_name_gets_a_new_one()
    {
        var first = ServerCertificate.Load(Options("https://127.0.0.1:8443"));
        var moved = ServerCertificate.Load(Options("https://10.9.8.7:8443"));

        Assert.True(moved.Generated);
        Assert.NotEqual(first.Fingerprint, moved.Fingerprint);
    }

    [Fact]
    public void A_listener_on_every_interface_names_the_machine_instead_of_the_wildcard()
    {
        var generated = ServerCertificate.Load(Options("https://0.0.0.0:8443"));

        var san = generated.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains(System.Net.Dns.GetHostName().ToLowerInvariant(), san.EnumerateDnsNames());
        Assert.DoesNotContain("0.0.0.0", san.EnumerateIPAddresses().Select(a => a.ToString()));
    }

    [Fact]
    public void A_certificate_file_that_is_not_pem_stops_the_start_with_the_file_named()
    {
        var bad = Path.Combine(_state, "bad.pem");
        File.WriteAllText(bad, "not a certificate");
        var error = Assert.Throws<DaemonException>(() => ServerCertificate.Load(Options("https://127.0.0.1:8443") with { TlsCertFile = bad, TlsKeyFile = bad }));
        Assert.Contains(bad, error.Message, StringComparison.Ordinal);
    }
}
