using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cleanroom.Escaping;
using Cleanroom.Oci;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Images.Registry;

/// <summary>
/// Answers a registry's 401 challenge: <c>Bearer</c> (Docker token spec: fetch a token from the realm, with Basic
/// credentials when we have them, or an OAuth2 refresh-token grant for an identity token) or <c>Basic</c>. Tokens are
/// cached per (registry, scope) until shortly before they expire, and the last authorization that worked for a
/// repository is offered up front on its next request, saving the 401 round trip. Thread-safe.
/// </summary>
internal sealed class RegistryAuthenticator(HttpClient http, RegistryClientOptions options, ILogger logger)
{
    /// <summary>A token response is a JWT and a few fields; bigger is not a token response.</summary>
    private const int MaxTokenResponseBytes = 1024 * 1024;

    /// <summary>The token spec's lifetime when the endpoint does not say.</summary>
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    /// <summary>How long before expiry a token stops being offered, so it does not expire in flight.</summary>
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);

    /// <summary>Bearer tokens by "registry scope".</summary>
    private readonly ConcurrentDictionary<string, CachedAuthorization> _tokens = new(StringComparer.Ordinal);

    /// <summary>What to send up front, by repository (registry/path): a token or Basic credentials that worked.</summary>
    private readonly ConcurrentDictionary<string, CachedAuthorization> _byRepository = new(StringComparer.Ordinal);

    /// <summary>The authorization to send with the first request to <paramref name="target"/>, if one is known and fresh.</summary>
    public AuthenticationHeaderValue? Current(RegistryTarget target)
    {
        if (_byRepository.TryGetValue(target.Repository, out var cached))
        {
            if (cached.IsValidAt(DateTimeOffset.UtcNow))
            {
                return cached.Header;
            }

            _byRepository.TryRemove(new KeyValuePair<string, CachedAuthorization>(target.Repository, cached));
        }

        return null;
    }

    /// <summary>
    /// Obtains an authorization that answers <paramref name="challenges"/> (from a 401 of <paramref name="target"/>),
    /// never <paramref name="refused"/> again (a cached token the registry no longer takes, e.g. revoked early).
    /// Throws <see cref="RegistryException"/> (Unauthorized) when we cannot, saying what the user can do about it.
    /// </summary>
    public async Task<AuthenticationHeaderValue> AuthorizeAsync(RegistryTarget target, IReadOnlyList<AuthenticationChallenge> challenges, AuthenticationHeaderValue? refused, CancellationToken cancellationToken)
    {
        var credential = options.Credentials.Find(target.Registry);
        var bearer = challenges.FirstOrDefault(c => c.IsScheme("Bearer"));
        if (bearer is not null)
        {
            var scope = bearer["scope"] is { Length: > 0 } asked ? asked : $"repository:{target.RepositoryPath}:pull";
            var cacheKey = target.Registry + " " + scope;
            if (!_tokens.TryGetValue(cacheKey, out var token) || !token.IsValidAt(DateTimeOffset.UtcNow) || Equals(token.Header, refused))
            {
                token = await FetchTokenAsync(target, bearer, scope, credential, cancellationToken);
                _tokens[cacheKey] = token;
            }

            _byRepository[target.Repository] = token;
            return token.Header;
        }

        if (challenges.FirstOrDefault(c => c.IsScheme("Basic")) is not null)
        {
            if (credential is not { HasBasic: true })
            {
                throw NeedsCredentials(target);
            }

            if (target.BaseUri.Scheme != Uri.UriSchemeHttps && !RegistryHosts.IsLoopback(target.Registry))
            {
                throw new RegistryException(RegistryErrorKind.Unauthorized, $"registry {target.Registry} asks for a password over plain http; refusing to send credentials unencrypted");
            }

            var basic = new CachedAuthorization(BasicHeader(credential), DateTimeOffset.MaxValue);
            _byRepository[target.Repository] = basic;
            return basic.Header;
        }

        var offered = string.Join(", ", challenges.Select(c => c.Scheme).Distinct(StringComparer.OrdinalIgnoreCase));
        throw new RegistryException(RegistryErrorKind.Unauthorized, offered.Length == 0
            ? $"registry {target.Registry} answered 401 for {target.Repository} without saying how to authenticate (no usable WWW-Authenticate header)"
            : $"registry {target.Registry} asks for {ResponseBody.Clean(offered)} authentication, which cleanroom does not support (only Bearer and Basic)");
    }

    /// <summary>Forgets what was sent up front for <paramref name="target"/> (the registry refused it).</summary>
    public void Forget(RegistryTarget target) => _byRepository.TryRemove(target.Repository, out _);

    /// <summary>The Unauthorized error for a registry that wants credentials we do not have.</summary>
    public static RegistryException NeedsCredentials(RegistryTarget target) =>
        new(RegistryErrorKind.Unauthorized, $"registry {target.Registry} needs credentials for {target.Repository}: run `docker login {target.Registry}` or add them to ~/.docker/config.json");

    private async Task<CachedAuthorization> FetchTokenAsync(RegistryTarget target, AuthenticationChallenge challenge, string scope, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(challenge["realm"], UriKind.Absolute, out var realm) || (realm.Scheme != Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttp))
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"registry {target.Registry} sent a Bearer challenge without a usable realm ('{ResponseBody.Clean(challenge["realm"] ?? "")}')");
        }

        var sendsSecret = credential is not null && (credential.IdentityToken is not null || credential.HasBasic);
        if (sendsSecret && realm.Scheme != Uri.UriSchemeHttps && target.BaseUri.Scheme == Uri.UriSchemeHttps && !IsLoopbackHost(realm))
        {
            throw new RegistryException(RegistryErrorKind.Unauthorized, $"registry {target.Registry} sends us to the plain-http token service {realm.GetLeftPart(UriPartial.Path)}; refusing to send credentials unencrypted");
        }

        // Before any byte goes to it: the registry picked this address, the caller's rules decide whether it is asked.
        options.CheckTokenRealm?.Invoke(realm);
        var service = challenge["service"];
        using var request = credential?.IdentityToken is { } refreshToken
            ? RefreshTokenRequest(realm, service, scope, refreshToken)
            : TokenRequest(realm, service, scope, credential);
        logger.LogDebug("fetching a token for {Registry} scope {Scope} from {Realm}", target.Registry, scope, realm.GetLeftPart(UriPartial.Path));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RequestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransientRegistryFailure($"the token service {realm.Host} did not answer within {options.RequestTimeout.TotalSeconds:0} s", null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new TransientRegistryFailure($"could not reach the token service {realm.Host} ({ex.Message})", null, ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var text = await ResponseBody.ErrorTextAsync(response, options.RequestTimeout, cancellationToken);
                var status = $"{(int)response.StatusCode} {response.ReasonPhrase}{(text.Length == 0 ? "" : ": " + text)}";
                if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    throw new TransientRegistryFailure($"the token service for {target.Registry} answered {status}", RegistryFailures.RetryAfter(response));
                }

                if (credential is null)
                {
                    // An anonymous token request refused: the repository is private and we have nothing to offer.
                    throw new RegistryException(RegistryErrorKind.Unauthorized, NeedsCredentials(target).Message + $" (the token service answered {status})");
                }

                var who = credential.IdentityToken is not null ? "the identity token" : $"the credentials of '{credential.Username}'";
                throw new RegistryException(RegistryErrorKind.Unauthorized, $"the token service for {target.Registry} ({realm.GetLeftPart(UriPartial.Path)}) refused {who} for {scope} ({status})");
            }

            var bytes = await ResponseBody.ReadAsync(response, MaxTokenResponseBytes, options.RequestTimeout,
                size => new RegistryException(RegistryErrorKind.Protocol, $"the token service for {target.Registry} sent a {size}-byte answer; a token response is far smaller"), cancellationToken);
            TokenResponse? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.TokenResponse);
            }
            catch (JsonException ex)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"the token service for {target.Registry} sent something that is not a token response ({UntrustedText.Escape(ex.Message)})", ex);
            }

            var token = parsed?.Token is { Length: > 0 } t ? t : parsed?.AccessToken;
            if (string.IsNullOrEmpty(token) || !token.All(c => c is > ' ' and < (char)127))
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"the token service for {target.Registry} answered without a usable token");
            }

            var lifetime = parsed!.ExpiresIn is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : DefaultTokenLifetime;
            var margin = lifetime > ExpiryMargin * 2 ? ExpiryMargin : lifetime / 2;
            return new CachedAuthorization(new AuthenticationHeaderValue("Bearer", token), DateTimeOffset.UtcNow + lifetime - margin);
        }
    }

    private static HttpRequestMessage TokenRequest(Uri realm, string? service, string scope, RegistryCredential? credential)
    {
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : "");
        if (!string.IsNullOrEmpty(service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        query.Append("scope=").Append(Uri.EscapeDataString(scope));
        var uri = new UriBuilder(realm) { Query = query.ToString() }.Uri;
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (credential is { HasBasic: true })
        {
            request.Headers.Authorization = BasicHeader(credential);
        }

        return request;
    }

    /// <summary>The OAuth2 form of the token spec, for identity tokens (what `docker login` stores for some registries).</summary>
    private static HttpRequestMessage RefreshTokenRequest(Uri realm, string? service, string scope, string refreshToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", refreshToken),
            new("client_id", "cleanroom"),
            new("scope", scope),
        };
        if (!string.IsNullOrEmpty(service))
        {
            form.Add(new("service", service));
        }

        return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
    }

    private static AuthenticationHeaderValue BasicHeader(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.Password)));

    private static bool IsLoopbackHost(Uri uri) => uri.IsLoopback;
}
