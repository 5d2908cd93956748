using System.Net;

namespace Cleanroom.Images.Registry;

/// <summary>Turns an unsuccessful registry response into the exception that says what happened.</summary>
internal static class RegistryFailures
{
    /// <summary>
    /// The exception for <paramref name="response"/>: a <see cref="RegistryException"/> for answers that will not
    /// change (404, 403, other 4xx), a <see cref="TransientRegistryFailure"/> for 429 and 5xx.
    /// <paramref name="subject"/> names what was asked for, e.g. "manifest 127.0.0.1:5000/a/b:v1".
    /// </summary>
    public static async Task<Exception> FromResponseAsync(HttpResponseMessage response, RegistryTarget target, string subject, TimeSpan stall, CancellationToken cancellationToken)
    {
        var text = await ResponseBody.ErrorTextAsync(response, stall, cancellationToken);
        var detail = text.Length == 0 ? "" : $" ({text})";
        var status = (int)response.StatusCode;
        var statusText = $"{status} {ResponseBody.Clean(response.ReasonPhrase ?? response.StatusCode.ToString())}";
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound => new RegistryException(RegistryErrorKind.NotFound, $"{subject} was not found{detail}"),
            HttpStatusCode.Unauthorized => new RegistryException(RegistryErrorKind.Unauthorized, $"registry {target.Registry} refused access to {subject} (401){detail}"),
            HttpStatusCode.Forbidden => new RegistryException(RegistryErrorKind.Denied, $"registry {target.Registry} denied access to {subject} (403){detail}"),
            HttpStatusCode.TooManyRequests => new TransientRegistryFailure($"registry {target.Registry} is rate-limiting us (429){detail}", RetryAfter(response)),
            _ when status >= 500 => new TransientRegistryFailure($"registry {target.Registry} answered {statusText} for {subject}{detail}", RetryAfter(response)),
            _ => new RegistryException(RegistryErrorKind.Protocol, $"registry {target.Registry} answered {statusText} for {subject}{detail}"),
        };
    }

    /// <summary>The <c>Retry-After</c> of a response (seconds or an HTTP date), when present and sane.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta && delta >= TimeSpan.Zero)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }
}
