using System.Net.Http.Headers;

namespace Cleanroom.Images.Registry;

/// <summary>An Authorization header value we obtained, and until when it may be sent.</summary>
internal sealed record CachedAuthorization(AuthenticationHeaderValue Header, DateTimeOffset ExpiresAt)
{
    public bool IsValidAt(DateTimeOffset now) => now < ExpiresAt;
}
