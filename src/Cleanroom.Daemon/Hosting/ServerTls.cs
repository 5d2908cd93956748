using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// How every https listener handshakes: TLS 1.3 only, the server certificate, and (with <c>--tls-client-ca</c>) a
/// required client certificate that must chain to one of the given CAs alone, not to the system's roots.
/// </summary>
internal sealed class ServerTls
{
    private readonly X509Certificate2Collection? _clientCas;

    private readonly X509Certificate2Collection _chain;

    public ServerTls(X509Certificate2 certificate, X509Certificate2Collection chain, X509Certificate2Collection? clientCas)
    {
        Certificate = certificate;
        _chain = chain;
        _clientCas = clientCas;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>True when clients must present a certificate.</summary>
    public bool RequiresClientCertificate => _clientCas is not null;

    /// <summary>The server certificate (loaded or generated) and the client CAs, read once at start.</summary>
    public static ServerTls Load(DaemonOptions options, out ServerCertificate.Loaded loaded)
    {
        ArgumentNullException.ThrowIfNull(options);
        loaded = ServerCertificate.Load(options);
        return new ServerTls(loaded.Certificate, loaded.Chain, options.TlsClientCaFile is { } caFile ? ClientCas(caFile) : null);
    }

    /// <summary>Kestrel's handshake settings for one https listener.</summary>
    public HttpsConnectionAdapterOptions Adapter() => new()
    {
        ServerCertificate = Certificate,
        ServerCertificateChain = _chain.Count > 0 ? _chain : null,
        SslProtocols = SslProtocols.Tls13,
        ClientCertificateMode = _clientCas is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
        ClientCertificateValidation = _clientCas is null ? null : (certificate, presented, _) => ChainsToClientCa(certificate, presented),
        CheckCertificateRevocation = false,
    };

    private bool ChainsToClientCa(X509Certificate2 certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_clientCas!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;

        // An unauthenticated client must not make the daemon fetch certificates from URLs in its certificate; the
        // intermediates it sent in the handshake are used instead.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2")); // client authentication
        return chain.Build(certificate);
    }

    private static X509Certificate2Collection ClientCas(string file)
    {
        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPemFile(file);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new DaemonException(Grpc.Core.StatusCode.InvalidArgument, ReasonCode.InvalidArgument, $"cannot read --tls-client-ca {file}: {ex.Message}");
        }

        return cas.Count > 0
            ? cas
            : throw new DaemonException(Grpc.Core.StatusCode.InvalidArgument, ReasonCode.InvalidArgument, $"--tls-client-ca {file} holds no PEM certificate");
    }
}
