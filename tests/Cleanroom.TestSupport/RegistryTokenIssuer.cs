using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Cleanroom.TestSupport;

/// <summary>
/// Signs registry access tokens the way docker-registry 2.8's <c>auth.token</c> verifies them: an ES256 JWT whose
/// header carries the signing certificate (<c>x5c</c>), the certificate being in the registry's
/// <c>rootcertbundle</c>. The key and the self-signed certificate are made fresh for each issuer.
/// </summary>
public sealed class RegistryTokenIssuer : IDisposable
{
    private readonly ECDsa _key;
    private readonly X509Certificate2 _certificate;

    public RegistryTokenIssuer(string issuer, string service)
    {
        Issuer = issuer;
        Service = service;
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + issuer, _key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        _certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));
    }

    /// <summary>The <c>iss</c> claim; the registry's <c>auth.token.issuer</c> must equal it.</summary>
    public string Issuer { get; }

    /// <summary>The <c>aud</c> claim; the registry's <c>auth.token.service</c> must equal it.</summary>
    public string Service { get; }

    /// <summary>The certificate as PEM, for the registry's <c>rootcertbundle</c> file.</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>A token for <paramref name="subject"/> granting <paramref name="access"/>, valid for <paramref name="lifetime"/>.</summary>
    public string Issue(string subject, IReadOnlyList<TokenAccess> access, TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Json(writer =>
        {
            writer.WriteString("typ", "JWT");
            writer.WriteString("alg", "ES256");
            writer.WriteStartArray("x5c");
            writer.WriteStringValue(Convert.ToBase64String(_certificate.RawData));
            writer.WriteEndArray();
        });
        var claims = Json(writer =>
        {
            writer.WriteString("iss", Issuer);
            writer.WriteString("sub", subject);
            writer.WriteString("aud", Service);
            writer.WriteNumber("exp", now + (long)lifetime.TotalSeconds);
            // A little slack for clock skew between this process and the registry (they share a clock here, but
            // a token minted in the same second as nbf must still be valid).
            writer.WriteNumber("nbf", now - 10);
            writer.WriteNumber("iat", now);
            writer.WriteString("jti", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            writer.WriteStartArray("access");
            foreach (var grant in access)
            {
                writer.WriteStartObject();
                writer.WriteString("type", grant.Type);
                writer.WriteString("name", grant.Name);
                writer.WriteStartArray("actions");
                foreach (var action in grant.Actions)
                {
                    writer.WriteStringValue(action);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        });
        var signingInput = Base64Url(header) + "." + Base64Url(claims);
        // JWS ES256 is the raw r||s pair, not the DER SEQUENCE .NET produces by default.
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }

    private static byte[] Json(Action<Utf8JsonWriter> writeProperties)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
