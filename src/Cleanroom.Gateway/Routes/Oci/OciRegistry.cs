using System.Text.RegularExpressions;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// The registry a request names (<c>/registry/&lt;host&gt;/</c>, or Docker Hub for <c>/v2/</c>), checked and split into
/// what the policy is asked about and what the registry client is given.
/// </summary>
/// <param name="Host">The host as asked for, lowercased, with its port when one was given.</param>
/// <param name="PolicyHost">The host name the sandbox's policy must allow.</param>
/// <param name="PolicyPort">The port it must allow it on: the one given, else 443.</param>
/// <param name="Registry">The registry name for image references (Docker Hub's aliases folded into <c>docker.io</c>).</param>
internal sealed partial record OciRegistry(string Host, string PolicyHost, int PolicyPort, string Registry)
{
    /// <summary>Docker Hub's name in references and policies (its API is at <c>registry-1.docker.io</c>).</summary>
    public const string DockerHub = "docker.io";

    /// <summary>Longest host name (DNS), before the port.</summary>
    private const int MaxHostLength = 253;

    /// <summary>Checks <paramref name="host"/> (from the guest): a DNS name or IPv4 address with a dot (or <c>localhost</c>), optionally <c>:port</c>.</summary>
    public static bool TryParse(string host, out OciRegistry registry, out string error)
    {
        ArgumentNullException.ThrowIfNull(host);
        registry = new OciRegistry("", "", 0, "");
        error = "";
        var lowered = host.ToLowerInvariant();
        var match = HostPattern().Match(lowered);
        if (!match.Success || match.Groups["name"].Length > MaxHostLength)
        {
            error = $"{OciPath.Shown(host)} is not a registry host (a DNS name or IPv4 address, optionally with :port)";
            return false;
        }

        var name = match.Groups["name"].Value;
        var port = 443;
        if (match.Groups["port"].Success && (!int.TryParse(match.Groups["port"].ValueSpan, out port) || port is < 1 or > 65535))
        {
            error = $"{OciPath.Shown(host)} has a port outside 1-65535";
            return false;
        }

        if (!name.Contains('.', StringComparison.Ordinal) && name != "localhost" && !match.Groups["port"].Success)
        {
            // Image references read a first component without a dot or port as part of a Docker Hub name.
            error = $"{OciPath.Shown(host)} is not a registry host: a registry name has a dot or a port";
            return false;
        }

        var canonical = lowered is "index.docker.io" or "registry-1.docker.io" ? DockerHub : lowered;
        registry = new OciRegistry(lowered, name, port, canonical);
        return true;
    }

    /// <summary>
    /// The repository path on this registry: Docker Hub's official images (one component, <c>alpine</c>) live under
    /// <c>library/</c>, as the Docker client assumes.
    /// </summary>
    public string RepositoryPath(string name) =>
        Registry == DockerHub && !name.Contains('/', StringComparison.Ordinal) ? "library/" + name : name;

    [GeneratedRegex("^(?<name>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::(?<port>[0-9]{1,5}))?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex HostPattern();
}
