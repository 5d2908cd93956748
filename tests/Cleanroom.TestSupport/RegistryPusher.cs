using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>
/// Puts test images into a registry over plain HTTP: monolithic blob uploads (<c>POST …/blobs/uploads/</c> then
/// <c>PUT &lt;location&gt;&amp;digest=…</c>) and manifest PUTs with the right Content-Type, answering Bearer (token
/// service) or Basic challenges with the given credentials. It does not validate what it pushes, so tests can
/// push deliberately wrong manifests; what the registry itself refuses comes back as the status and body.
/// </summary>
public sealed partial class RegistryPusher : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(5) };
    private readonly Uri _baseUri;
    private readonly string? _username;
    private readonly string? _password;
    private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _authorizations = new(StringComparer.Ordinal);

    /// <param name="host">The registry, <c>host:port</c>, spoken to over http.</param>
    public RegistryPusher(string host, string? username = null, string? password = null)
    {
        _baseUri = new Uri($"http://{host}/");
        _username = username;
        _password = password;
    }

    /// <summary>A pusher for <paramref name="registry"/>, with its credentials when it has token auth.</summary>
    public static RegistryPusher For(RegistryServer registry) => new(registry.Host, registry.Auth?.Username, registry.Auth?.Password);

    /// <summary>Pushes every blob of <paramref name="image"/> and then its manifest as <paramref name="tag"/>; returns the manifest digest.</summary>
    public async Task<Digest> PushImageAsync(string repository, string tag, BuiltImage image)
    {
        foreach (var blob in image.Blobs)
        {
            await PushBlobAsync(repository, blob);
        }

        return await PushManifestAsync(repository, tag, image.ManifestBytes, image.ManifestMediaType);
    }

    /// <summary>Pushes every image of <paramref name="index"/> by digest, then the index as <paramref name="tag"/>.</summary>
    public async Task<Digest> PushIndexAsync(string repository, string tag, BuiltIndex index)
    {
        foreach (var image in index.Images)
        {
            foreach (var blob in image.Blobs)
            {
                await PushBlobAsync(repository, blob);
            }

            await PushManifestAsync(repository, image.ManifestDigest.ToString(), image.ManifestBytes, image.ManifestMediaType);
        }

        return await PushManifestAsync(repository, tag, index.Bytes, index.MediaType);
    }

    public Task PushBlobAsync(string repository, ImageBlob blob) =>
        UploadAsync(repository, blob.Digest, () => new StreamContent(blob.OpenRead()));

    public async Task<Digest> PushBlobAsync(string repository, byte[] bytes)
    {
        var digest = Digest.Of(bytes);
        await UploadAsync(repository, digest, () => new ByteArrayContent(bytes));
        return digest;
    }

    /// <summary>Pushes a manifest; throws with the registry's answer when it is refused. Returns the registry's digest for it.</summary>
    public async Task<Digest> PushManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        var (status, body, digest) = await TryPushManifestAsync(repository, reference, manifest, mediaType);
        return status == HttpStatusCode.Created && digest is not null
            ? digest
            : throw new InvalidOperationException($"the registry refused manifest {repository}:{reference}: {(int)status} {body}");
    }

    /// <summary>Pushes a manifest and reports what the registry said, refused or not.</summary>
    public async Task<(HttpStatusCode Status, string Body, Digest? Digest)> TryPushManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        using var response = await SendAsync(repository, () =>
        {
            var content = new ByteArrayContent(manifest);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, new Uri(_baseUri, $"v2/{repository}/manifests/{reference}")) { Content = content };
        });
        var body = await response.Content.ReadAsStringAsync();
        var served = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
        return (response.StatusCode, body, Digest.TryParse(served, out var digest) ? digest : null);
    }

    /// <summary>True when the registry has <paramref name="digest"/> in <paramref name="repository"/>.</summary>
    public async Task<bool> BlobExistsAsync(string repository, Digest digest)
    {
        using var response = await SendAsync(repository, () => new HttpRequestMessage(HttpMethod.Head, new Uri(_baseUri, $"v2/{repository}/blobs/{digest}")));
        return response.StatusCode == HttpStatusCode.OK;
    }

    public void Dispose() => _http.Dispose();

    private async Task UploadAsync(string repository, Digest digest, Func<HttpContent> content)
    {
        Uri location;
        using (var start = await SendAsync(repository, () => new HttpRequestMessage(HttpMethod.Post, new Uri(_baseUri, $"v2/{repository}/blobs/uploads/"))))
        {
            if (start.StatusCode != HttpStatusCode.Accepted || start.Headers.Location is null)
            {
                throw new InvalidOperationException($"the registry refused to start an upload to {repository}: {(int)start.StatusCode} {await start.Content.ReadAsStringAsync()}");
            }

            location = start.Headers.Location.IsAbsoluteUri ? start.Headers.Location : new Uri(_baseUri, start.Headers.Location);
        }

        var separator = location.Query.Length > 0 ? "&" : "?";
        var put = new Uri(location + separator + "digest=" + Uri.EscapeDataString(digest.ToString()));
        using var finish = await SendAsync(repository, () =>
        {
            var body = content();
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return new HttpRequestMessage(HttpMethod.Put, put) { Content = body };
        });
        if (finish.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"the registry refused blob {digest} for {repository}: {(int)finish.StatusCode} {await finish.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Sends a request, answering one 401 challenge; <paramref name="create"/> makes a fresh request per try.</summary>
    private async Task<HttpResponseMessage> SendAsync(string repository, Func<HttpRequestMessage> create)
    {
        var scope = $"repository:{repository}:pull,push";
        var request = create();
        if (_authorizations.TryGetValue(scope, out var known))
        {
            request.Headers.Authorization = known;
        }

        var response = await _http.SendAsync(request);
        request.Dispose();
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault()
            ?? throw new InvalidOperationException("the registry answered 401 without a challenge");
        response.Dispose();
        var authorization = await AnswerAsync(challenge, scope);
        _authorizations[scope] = authorization;
        using var retry = create();
        retry.Headers.Authorization = authorization;
        return await _http.SendAsync(retry);
    }

    private async Task<AuthenticationHeaderValue> AnswerAsync(AuthenticationHeaderValue challenge, string scope)
    {
        if (_username is null || _password is null)
        {
            throw new InvalidOperationException("the registry wants credentials and this pusher has none");
        }

        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_username + ":" + _password)));
        if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return basic;
        }

        var parameters = ChallengeParameter().Matches(challenge.Parameter ?? "").ToDictionary(m => m.Groups[1].Value.ToLowerInvariant(), m => m.Groups[2].Value);
        var realm = parameters.GetValueOrDefault("realm") ?? throw new InvalidOperationException($"no realm in the challenge '{challenge}'");
        var query = (parameters.TryGetValue("service", out var service) ? "service=" + Uri.EscapeDataString(service) + "&" : "") + "scope=" + Uri.EscapeDataString(scope);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(realm + (realm.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query));
        request.Headers.Authorization = basic;
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the token service refused the pusher: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        var token = json.RootElement.TryGetProperty("token", out var t) ? t.GetString() : json.RootElement.GetProperty("access_token").GetString();
        return new AuthenticationHeaderValue("Bearer", token);
    }

    [GeneratedRegex("([A-Za-z]+)=\"([^\"]*)\"", RegexOptions.CultureInvariant)]
    private static partial Regex ChallengeParameter();
}
