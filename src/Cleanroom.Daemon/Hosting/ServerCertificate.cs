using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// The https listeners' certificate: the operator's PEM files, or a self-signed ECDSA P-256 certificate the daemon
/// generates on its first https start and keeps (mode 0600) under <c>&lt;state&gt;/tls</c>, so that clients that
/// trusted it once (<c>--tls-ca server.pem</c>) keep working across restarts.
/// </summary>
internal static class ServerCertificate
{
    /// <summary>File names of the generated certificate and key inside the TLS directory.</summary>
    public const string CertFileName = "server.pem";

    public const string KeyFileName = "server.key";

    /// <summary>Names every generated certificate carries, whatever the listen hosts.</summary>
    private static readonly string[] LocalNames = ["localhost", "127.0.0.1", "::1"];

    private static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>What was loaded, from where, and whether it was generated now.</summary>
    public sealed record Loaded(X509Certificate2 Certificate, string Path, bool Generated)
    {
        /// <summary>Intermediates that followed the leaf in <c>--tls-cert</c>, sent with it in the handshake.</summary>
        public X509Certificate2Collection Chain { get; init; } = [];

        /// <summary>Hex SHA-256 of the DER certificate, as <c>openssl x509 -fingerprint -sha256</c> shows it (without colons).</summary>
        public string Fingerprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);
    }

    /// <summary>The operator's certificate (<c>--tls-cert/--tls-key</c>) or the generated one, created when absent or no longer fit.</summary>
    public static Loaded Load(DaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TlsCertFile is { } certFile)
        {
            return new Loaded(FromPem(certFile, options.TlsKeyFile!), certFile, Generated: false) { Chain = Intermediates(certFile) };
        }

        // A listener on every interface is reached by the machine's name, not by 0.0.0.0.
        var hosts = options.Listeners.Where(l => l.Tls)
            .Select(l => l.Address.Equals(IPAddress.Any) || l.Address.Equals(IPAddress.IPv6Any) ? Dns.GetHostName() : l.Host)
            .Where(h => Uri.CheckHostName(h) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6).ToList();
        var dir = options.TlsDir;
        PrivateDirectory.Ensure(dir, "the TLS directory", enforcePrivate: true);
        var certPath = Path.Combine(dir, CertFileName);
        var keyPath = Path.Combine(dir, KeyFileName);
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            // A pair that no longer loads (a crash between writing the key and the certificate) is ours to replace,
            // like one that no longer fits; the daemon must not refuse every later start over its own files.
            X509Certificate2? existing = null;
            try
            {
                existing = FromPem(certPath, keyPath);
            }
            catch (DaemonException)
            {
            }

            if (existing is not null && Fits(existing, hosts))
            {
                return new Loaded(existing, certPath, Generated: false);
            }

            existing?.Dispose();
        }

        var created = Generate(hosts);
        using (var key = created.GetECDsaPrivateKey()!)
        {
            WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        }

        WritePrivate(certPath, created.ExportCertificatePem());
        return new Loaded(created, certPath, Generated: true);
    }

    /// <summary>A new self-signed server certificate for localhost, both loopbacks and <paramref name="hosts"/>.</summary>
    public static X509Certificate2 Generate(IEnumerable<string> hosts)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=cleanroom daemon", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in Names(hosts))
        {
            if (IPAddress.TryParse(host, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));
    }

    private static IEnumerable<string> Names(IEnumerable<string> hosts) =>
        LocalNames.Concat(hosts)
            .Select(h => IPAddress.TryParse(h, out var a) ? a.ToString() : h.ToLowerInvariant())
            .Distinct(StringComparer.Ordinal);

    /// <summary>Still valid for a week and naming every listen host; otherwise a new one is made (and clients must trust it anew).</summary>
    private static bool Fits(X509Certificate2 certificate, IEnumerable<string> hosts)
    {
        if (certificate.NotAfter.ToUniversalTime() < DateTime.UtcNow.AddDays(7))
        {
            return false;
        }

        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
        {
            return false;
        }

        var named = san.EnumerateDnsNames().Select(n => n.ToLowerInvariant()).Concat(san.EnumerateIPAddresses().Select(a => a.ToString())).ToHashSet(StringComparer.Ordinal);
        return Names(hosts).All(named.Contains);
    }

    private static X509Certificate2 FromPem(string certFile, string keyFile)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new DaemonException(Grpc.Core.StatusCode.InvalidArgument, ReasonCode.InvalidArgument, $"cannot load the TLS certificate {certFile} with key {keyFile}: {ex.Message}");
        }
    }

    private static X509Certificate2Collection Intermediates(string certFile)
    {
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certFile);
        all[0].Dispose();
        all.RemoveAt(0);
        return all;
    }

    /// <summary>Written beside its final name with mode 0600 from creation, then renamed: never a half-written or readable key.</summary>
    private static void WritePrivate(string path, string text)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = Private }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
