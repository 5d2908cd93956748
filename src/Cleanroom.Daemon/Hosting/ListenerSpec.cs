using System.Globalization;
using System.Net;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// One network listener of the control API, from <c>--listen http://HOST:PORT</c> or <c>--listen https://HOST:PORT</c>.
/// HOST is an IP address (IPv6 in brackets) or <c>localhost</c>; names are refused because a listener binds an
/// address, and a name that resolves differently later would silently move it.
/// </summary>
public sealed record ListenerSpec
{
    private ListenerSpec(bool tls, string host, IPAddress address, int port)
    {
        Tls = tls;
        Host = host;
        Address = address;
        Port = port;
    }

    /// <summary>True for <c>https://</c>.</summary>
    public bool Tls { get; }

    /// <summary>The host as written, without brackets (a SAN of the generated certificate).</summary>
    public string Host { get; }

    /// <summary>The address bound; <c>localhost</c> binds the IPv4 loopback.</summary>
    public IPAddress Address { get; }

    /// <summary>0 picks a free port.</summary>
    public int Port { get; }

    /// <summary>True when only this machine can connect.</summary>
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    /// <summary>The text form, <c>https://127.0.0.1:8443</c>.</summary>
    public string Display => $"{(Tls ? "https" : "http")}://{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Host}]" : Host)}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>True when <paramref name="text"/> names a network listener rather than a unix socket.</summary>
    public static bool IsNetwork(string text) =>
        text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <c>http(s)://HOST:PORT</c>; the port is required. Throws <see cref="FormatException"/> naming the flag.</summary>
    public static ListenerSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.UserInfo.Length > 0 || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new FormatException($"--listen takes a unix socket, http://HOST:PORT or https://HOST:PORT (got '{text}')");
        }

        // Uri fills in 80/443 for a missing port; a listener on a default port by accident is a surprise, so ask for it.
        var authority = text[(uri.Scheme.Length + 3)..].TrimEnd('/');
        if (!authority.Contains("]:", StringComparison.Ordinal) && (authority.StartsWith('[') || !authority.Contains(':', StringComparison.Ordinal)))
        {
            throw new FormatException($"--listen {text}: give the port, such as {uri.Scheme}://127.0.0.1:8443");
        }

        var host = uri.Host.Trim('[', ']');
        IPAddress address;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address!))
        {
            throw new FormatException($"--listen {text}: the host must be an IP address or localhost (a listener binds an address)");
        }

        return new ListenerSpec(uri.Scheme == "https", host, address, uri.Port);
    }
}
