using System.Net;
using System.Net.Http.Headers;
using Cleanroom.Gateway.Credentials;
using Cleanroom.Gateway.Server;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Upstream;

/// <summary>
/// Sends the gateway's upstream requests: <c>https://HOST</c> (or the configured override base URL), no automatic
/// redirects (each hop is re-checked against the sandbox's policy, at most <see cref="MaxRedirects"/>), credentials
/// added only for the host they are listed under, headers and transfer bounded in time, bodies bounded in size.
/// </summary>
internal sealed class UpstreamClient : IDisposable
{
    /// <summary>Most redirects followed for one request.</summary>
    public const int MaxRedirects = 5;

    private const int MaxContentTypeLength = 256;

    private readonly HttpClient _http;
    private readonly GatewayCredentials _credentials;
    private readonly Dictionary<string, Uri> _overrides;
    private readonly TimeSpan _headersTimeout;
    private readonly TimeSpan _transferTimeout;
    private readonly long _maxBodyBytes;

    public UpstreamClient(GatewayOptions options, GatewayCredentials credentials, long maxBodyBytes)
    {
        _credentials = credentials;
        _headersTimeout = options.UpstreamHeadersTimeout;
        _transferTimeout = options.UpstreamTransferTimeout;
        _maxBodyBytes = maxBodyBytes;
        _overrides = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var (host, uri) in options.Upstreams)
        {
            if (!HostNames.TryNormalize(host, out var name, out var problem))
            {
                throw new ArgumentException($"gateway upstream override for a bad host name: {problem}", nameof(options));
            }

            if (!uri.IsAbsoluteUri || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
            {
                throw new ArgumentException($"the gateway upstream for {name} must be an http(s) URL without user info", nameof(options));
            }

            _overrides[name] = uri;
        }

        _http = new HttpClient(
            new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = _headersTimeout < TimeSpan.FromSeconds(15) ? _headersTimeout : TimeSpan.FromSeconds(15),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxResponseHeadersLength = 64,
                MaxConnectionsPerServer = 64,
            },
            disposeHandler: true)
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The cache scope a request for <paramref name="host"/> is fetched in: its credential's, or public.</summary>
    public string ScopeFor(string host) => _credentials.For(host)?.Scope ?? GatewayCredentials.PublicScope;

    /// <summary>
    /// Sends <paramref name="request"/> for <paramref name="client"/>, following redirects that the policy allows.
    /// </summary>
    /// <exception cref="RedirectRefusedException">A redirect leaves the policy.</exception>
    /// <exception cref="UpstreamFailedException">Unreachable, timed out, too many redirects, or a bad redirect.</exception>
    public async Task<UpstreamResponse> SendAsync(GatewayClient client, UpstreamRequest request, CancellationToken cancellationToken)
    {
        var method = request.Method;
        var body = request.Body;
        var host = request.Host;
        var uri = BaseFor(host, request.PathAndQuery);
        var hops = new List<string>();
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_transferTimeout);
        try
        {
            for (var hop = 0; ; hop++)
            {
                using var message = new HttpRequestMessage(method, uri) { Version = HttpVersion.Version11 };
                foreach (var (name, value) in request.Headers)
                {
                    if (!name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                    {
                        message.Headers.TryAddWithoutValidation(name, value);
                    }
                }

                message.Headers.UserAgent.Add(new ProductInfoHeaderValue("cleanroom-gateway", "1"));
                if (_credentials.For(host) is { } credential)
                {
                    // Only the host the credential is listed under ever receives it, redirects included.
                    message.Headers.TryAddWithoutValidation("Authorization", credential.Authorization);
                }

                if (body is not null)
                {
                    message.Content = new ByteArrayContent(body);
                    foreach (var (name, value) in request.Headers)
                    {
                        if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                        {
                            message.Content.Headers.TryAddWithoutValidation(name, value);
                        }
                    }
                }

                var response = await SendOneAsync(message, deadline, cancellationToken);
                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308)
                {
                    var location = response.Headers.Location;
                    response.Dispose();
                    if (hop >= MaxRedirects)
                    {
                        throw new UpstreamFailedException($"the upstream redirected more than {MaxRedirects} times");
                    }

                    if (location is null)
                    {
                        throw new UpstreamFailedException($"the upstream answered {status} without a Location");
                    }

                    (host, uri) = CheckRedirect(client, uri, location);
                    hops.Add($"{host}:{(_overrides.ContainsKey(host) ? 443 : uri.Port)}");
                    if (status == 303)
                    {
                        // See Other means "GET this instead"; 307 and 308 keep the method and body, and so do 301 and
                        // 302 here (a git POST redirected to a mirror must stay a POST).
                        method = HttpMethod.Get;
                        body = null;
                    }

                    continue;
                }

                var contentType = response.Content.Headers.ContentType?.ToString() ?? "";
                if (contentType.Length > MaxContentTypeLength || contentType.Any(c => c is < ' ' or > '~'))
                {
                    contentType = "";
                }

                var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                var bounded = new BoundedBodyStream(stream, _maxBodyBytes, deadline, response);
                deadline = null;
                return new UpstreamResponse(status, contentType, response.Content.Headers.ContentLength, bounded, hops);
            }
        }
        finally
        {
            deadline?.Dispose();
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendOneAsync(HttpRequestMessage message, CancellationTokenSource deadline, CancellationToken cancellationToken)
    {
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        headers.CancelAfter(_headersTimeout);
        try
        {
            return await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, headers.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamFailedException("the upstream did not answer within the gateway's timeout", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new UpstreamFailedException("the upstream could not be reached: " + ex.Message, ex);
        }
    }

    private Uri BaseFor(string host, string pathAndQuery) =>
        _overrides.TryGetValue(host, out var baseUri)
            ? new Uri(baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/') + pathAndQuery)
            : new Uri("https://" + host + pathAndQuery);

    /// <summary>Resolves a redirect and checks its host against the policy; returns the host the hop is for.</summary>
    private (string Host, Uri Uri) CheckRedirect(GatewayClient client, Uri current, Uri location)
    {
        var target = location.IsAbsoluteUri ? location : new Uri(current, location);
        if (!string.IsNullOrEmpty(target.UserInfo))
        {
            throw new UpstreamFailedException("the upstream redirected to a URL with user info");
        }

        // A redirect into an override's base URL is a redirect to the host that override stands for.
        foreach (var (name, baseUri) in _overrides)
        {
            if (Uri.Compare(target, baseUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
                && target.AbsolutePath.StartsWith(baseUri.AbsolutePath, StringComparison.Ordinal))
            {
                return Allowed(client, name, 443) ? (name, target) : throw new RedirectRefusedException(name);
            }
        }

        if (target.Scheme != Uri.UriSchemeHttps)
        {
            throw new RedirectRefusedException(target.GetLeftPart(UriPartial.Authority));
        }

        var host = HostNames.TryNormalize(target.IdnHost, out var normalized, out _) ? normalized : target.IdnHost;
        return Allowed(client, host, target.Port) ? (host, target) : throw new RedirectRefusedException(host);
    }

    /// <summary>The rule every upstream host must pass: allowed on that port, or a sandbox that allows everything.</summary>
    public static bool Allowed(GatewayClient client, string host, int port) =>
        client.AllowAll || client.Policy.Evaluate(host, port).IsAllowed;
}
