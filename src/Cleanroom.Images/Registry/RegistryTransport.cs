using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Images.Registry;

/// <summary>
/// Sends one logical request to a registry: authorization (answering a 401 challenge once), redirects followed by
/// hand (so that Authorization never leaves the registry's own origin: blob storage gets signed URLs, not our
/// token), a deadline for the response headers, and network failures turned into
/// <see cref="TransientRegistryFailure"/>s. Status codes other than 401 are left to the caller.
/// </summary>
internal sealed class RegistryTransport(HttpClient http, RegistryAuthenticator authenticator, RegistryClientOptions options, ILogger logger)
{
    private const int MaxRedirects = 5;

    /// <summary>Sends <paramref name="method"/> to <c>/v2/&lt;path&gt;/&lt;rest&gt;</c>; the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> SendAsync(RegistryTarget target, HttpMethod method, string rest, Action<HttpRequestHeaders>? headers, CancellationToken cancellationToken)
    {
        var uri = target.ApiUri(rest);
        var authorization = authenticator.Current(target);
        var response = await SendFollowingRedirectsAsync(target, method, uri, authorization, headers, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !target.IsSameOrigin(response.RequestMessage?.RequestUri ?? uri))
        {
            return response;
        }

        var challenges = AuthenticationChallenge.Parse(response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values) ? values : []);
        var refusedText = await ResponseBody.ErrorTextAsync(response, options.RequestTimeout, cancellationToken);
        response.Dispose();
        authenticator.Forget(target);
        logger.LogDebug("{Registry} asked for authorization for {Repository}: {Challenges}", target.Registry, target.Repository, string.Join(" | ", challenges.Select(c => c.Scheme)));
        authorization = await authenticator.AuthorizeAsync(target, challenges, authorization, cancellationToken);
        response = await SendFollowingRedirectsAsync(target, method, uri, authorization, headers, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        // Refused twice: the credentials are wrong, or the token does not cover the repository. Registries answer
        // the same way for a repository that does not exist, so say both.
        var text = await ResponseBody.ErrorTextAsync(response, options.RequestTimeout, cancellationToken);
        response.Dispose();
        authenticator.Forget(target);
        var detail = text.Length > 0 ? text : refusedText;
        var who = options.Credentials.Find(target.Registry) is { } credential
            ? $"with the credentials of '{credential.Username ?? "(identity token)"}'"
            : "without credentials";
        throw new RegistryException(RegistryErrorKind.Unauthorized,
            $"registry {target.Registry} refused access to {target.Repository} {who}; the repository may not exist, or the account may lack access{(detail.Length == 0 ? "" : $" ({detail})")}");
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(RegistryTarget target, HttpMethod method, Uri uri, AuthenticationHeaderValue? authorization, Action<HttpRequestHeaders>? headers, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            headers?.Invoke(request.Headers);
            if (authorization is not null && target.IsSameOrigin(uri))
            {
                request.Headers.Authorization = authorization;
            }

            var response = await SendOnceAsync(target, request, cancellationToken);
            if (!IsRedirect(response.StatusCode))
            {
                return response;
            }

            var location = response.Headers.Location;
            response.Dispose();
            if (location is null)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"registry {target.Registry} redirected a request for {target.Repository} without saying where to");
            }

            if (hop == MaxRedirects)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"registry {target.Registry} redirected a request for {target.Repository} more than {MaxRedirects} times");
            }

            var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
            if (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"registry {target.Registry} redirected to a non-http URL ({ResponseBody.Clean(next.Scheme)}:)");
            }

            // The caller may hold redirect targets to a policy (the gateway: the sandbox's egress rules).
            options.CheckRedirect?.Invoke(next);
            logger.LogDebug("{Registry}: {Method} redirected to {Host}", target.Registry, method, next.Authority);
            uri = next;
            if (response.StatusCode == HttpStatusCode.SeeOther && method != HttpMethod.Head)
            {
                method = HttpMethod.Get;
            }
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(RegistryTarget target, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RequestTimeout);
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransientRegistryFailure($"{request.RequestUri!.Authority} did not answer within {options.RequestTimeout.TotalSeconds:0.#} s", null, ex);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            // A TLS failure does not heal by retrying; the usual cause is a plain-http registry addressed as https.
            throw new RegistryException(RegistryErrorKind.Unavailable,
                $"could not set up TLS with {request.RequestUri!.Authority} ({ex.Message}); if {target.Registry} speaks plain http, list it among the plain-http (insecure) registries", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new TransientRegistryFailure($"could not reach {request.RequestUri!.Authority} ({ex.Message})", null, ex);
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
