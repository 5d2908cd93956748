using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cleanroom.Client;

/// <summary>
/// How a client checks an https daemon and proves itself to one. With a CA file (<c>--tls-ca</c>) the daemon's
/// certificate must chain to that file's certificates and nothing else: the system roots are not consulted, so a
/// self-signed daemon certificate (the file itself can be the CA) cannot be stood in for by any publicly issued one.
/// Without a CA file the system roots decide, as for any https site. A client certificate (<c>--tls-cert</c> and
/// <c>--tls-key</c>) is offered when the daemon asks for one (mTLS). Only TLS 1.3 is spoken, as the daemon does.
/// </summary>
public sealed record DaemonTls
{
    /// <summary>System roots, no client certificate.</summary>
    public static readonly DaemonTls Default = new();

    /// <summary>PEM file with the CA certificate(s), or the daemon's self-signed certificate, to trust instead of the system roots.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate offered to a daemon that requires one (the first certificate in the file; intermediates are not sent, so it should be issued by the CA the daemon trusts directly).</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM private key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>The handshake settings for an https connection to <paramref name="host"/>. Reads the files now.</summary>
    /// <exception cref="DaemonTlsException">A file is missing or is not the PEM it should be, or only one of cert and key is given.</exception>
    public SslClientAuthenticationOptions ClientOptions(string host)
    {
        if ((CertFile is null) != (KeyFile is null))
        {
            throw new DaemonTlsException("--tls-cert and --tls-key (CLEANROOM_TLS_CERT, CLEANROOM_TLS_KEY) go together");
        }

        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (CaFile is not null)
        {
            var roots = Load(CaFile, "--tls-ca", static (collection, file) => collection.ImportFromPemFile(file));
            options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => ChainsTo(roots, certificate, chain, errors);
        }

        if (CertFile is not null)
        {
            var client = Load(CertFile, "--tls-cert", (collection, file) => collection.Add(X509Certificate2.CreateFromPemFile(file, KeyFile)));
            // Offered whatever CA names the daemon lists (Kestrel lists none): the daemon decides whether it chains.
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => client[0];
            options.ClientCertificates = client;
        }

        return options;
    }

    private static bool ChainsTo(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        // The name must still match; only the chain is judged against the given roots instead of the system's.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1")); // server authentication: not a client certificate of the same CA
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private static X509Certificate2Collection Load(string file, string flag, Action<X509Certificate2Collection, string> import)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            import(collection, file);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new DaemonTlsException($"{flag} {file}: {ex.Message}", ex);
        }

        return collection.Count > 0 ? collection : throw new DaemonTlsException($"{flag} {file}: no PEM certificate in it");
    }
}
