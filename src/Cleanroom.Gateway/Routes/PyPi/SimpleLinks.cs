using System.Net;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Routes.PyPi;

/// <summary>
/// Maps one link of a simple index page to where the guest should fetch it: through the gateway's <c>/pypi/</c>
/// route. A link that already resolves to the same place through the gateway (a plain relative path that stays on
/// the page's host) is kept as written; anything else that resolves to an http(s) URL on a DNS name at its standard
/// port becomes the root-relative <c>/pypi/HOST/PATH?QUERY#FRAGMENT</c> (the fragment carries the file's
/// <c>#sha256=</c> for the client to check). Everything else is unusable.
/// </summary>
internal sealed class SimpleLinks
{
    private const string Route = "/pypi/";

    // Any absolute stand-in works for comparing where a relative link lands on the gateway.
    private static readonly Uri GatewayStandIn = new("http://gateway.invalid/");

    private readonly Uri _mirrorPage;

    /// <summary>Links of the page fetched from <paramref name="upstreamPage"/>, resolved against it.</summary>
    public SimpleLinks(Uri upstreamPage)
    {
        Base = upstreamPage;
        _mirrorPage = new Uri(GatewayStandIn, MapAbsolute(upstreamPage) ?? throw new ArgumentException("the page's own URL must be mappable", nameof(upstreamPage)));
    }

    /// <summary>What relative links resolve against upstream: the page, or the page's first <c>&lt;base href&gt;</c>.</summary>
    public Uri Base { get; private set; }

    /// <summary>
    /// Whether a kept relative link lands in the same place for the guest as upstream: false once a
    /// <c>&lt;base&gt;</c> moved the upstream's base (the rewritten page has no base, so the guest resolves against
    /// the page).
    /// </summary>
    private bool BaseIsPage { get; set; } = true;

    /// <summary>Takes a <c>&lt;base href&gt;</c> (the first one counts); false when it is unusable.</summary>
    public bool SetBase(string href)
    {
        if (!BaseIsPage)
        {
            return true;
        }

        if (!Uri.TryCreate(Base, href.Trim(), out var resolved) || MapAbsolute(resolved) is null)
        {
            return false;
        }

        Base = resolved;
        BaseIsPage = false;
        return true;
    }

    /// <summary>
    /// The link as the guest should see it, or null when it leads nowhere the gateway can go. A rewritten link whose
    /// SHA-256 is known (<paramref name="sha256"/>, from a JSON page's <c>hashes</c>, or the link's own
    /// <c>#sha256=</c>) is pinned: <c>/pypi/sha256:HEX/HOST/PATH</c>, so the gateway checks the bytes too.
    /// </summary>
    public string? Map(string href, string? sha256 = null)
    {
        // HTML strips surrounding ASCII whitespace from URL attributes; so do the clients.
        href = href.Trim(' ', '\t', '\n', '\r', '\f');
        if (!Uri.TryCreate(Base, href, out var target) || MapAbsolute(target) is not { } mapped)
        {
            return null;
        }

        if (BaseIsPage && IsPlainRelativePath(href)
            && Uri.TryCreate(_mirrorPage, href, out var viaGateway)
            && viaGateway.GetComponents(UriComponents.PathAndQuery | UriComponents.Fragment, UriFormat.UriEscaped) == mapped)
        {
            return href;
        }

        var pin = IsSha256(sha256) ? sha256! : FragmentSha256(target);
        return pin is null ? mapped : $"{Route}sha256:{pin.ToLowerInvariant()}/{mapped[Route.Length..]}";
    }

    private static bool IsSha256(string? hex) => hex is { Length: 64 } && hex.All(char.IsAsciiHexDigit);

    /// <summary>The hex digest of a <c>#sha256=HEX</c> fragment, or null.</summary>
    private static string? FragmentSha256(Uri target)
    {
        const string Prefix = "#sha256=";
        var fragment = target.Fragment;
        return fragment.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && IsSha256(fragment[Prefix.Length..])
            ? fragment[Prefix.Length..]
            : null;
    }

    /// <summary>
    /// <c>/pypi/HOST/PATH?QUERY#FRAGMENT</c> for an absolute http(s) URL on a DNS name at its default port without
    /// user info, else null.
    /// </summary>
    private static string? MapAbsolute(Uri target)
    {
        if (!target.IsAbsoluteUri || target.Scheme is not ("https" or "http") || !target.IsDefaultPort
            || target.UserInfo.Length > 0 || target.HostNameType != UriHostNameType.Dns
            || IPAddress.TryParse(target.Host, out _)
            || !HostNames.TryNormalize(target.IdnHost, out var host, out _))
        {
            return null;
        }

        return Route + host + target.GetComponents(UriComponents.PathAndQuery | UriComponents.Fragment, UriFormat.UriEscaped);
    }

    /// <summary>
    /// A relative-path reference made only of characters every client reads the same way (no scheme, no leading
    /// slash, no backslash, no spaces): keeping it as written is only safe when no client could read it differently.
    /// </summary>
    private static bool IsPlainRelativePath(string href)
    {
        if (href.Length == 0 || href[0] == '/')
        {
            return false;
        }

        var colon = href.IndexOf(':', StringComparison.Ordinal);
        var slash = href.IndexOfAny(['/', '?', '#']);
        if (colon >= 0 && (slash < 0 || colon < slash))
        {
            return false; // a scheme (or something a client could take for one)
        }

        return href.All(c => char.IsAsciiLetterOrDigit(c) || "-._~!$&'()*+,;=:@%/?#".Contains(c, StringComparison.Ordinal));
    }
}
