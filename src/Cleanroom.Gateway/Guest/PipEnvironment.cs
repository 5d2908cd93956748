using Cleanroom.Policy;

namespace Cleanroom.Gateway.Guest;

/// <summary>
/// Sends pip and uv to the gateway's <c>/pypi/pypi.org/simple/</c> when the policy allows both pypi.org and
/// files.pythonhosted.org on 443 (the index and the files it links to; with only one of them, a tool pointed at the
/// gateway would fail half way, so nothing is set).
/// </summary>
public static class PipEnvironment
{
    /// <summary>The index host.</summary>
    public const string IndexHost = "pypi.org";

    /// <summary>The host PyPI's file links point at.</summary>
    public const string FilesHost = "files.pythonhosted.org";

    /// <summary>
    /// The variables, as <c>KEY=VALUE</c>: <c>PIP_INDEX_URL</c>, <c>UV_DEFAULT_INDEX</c> (uv 0.4.23 and later; the
    /// older, deprecated <c>UV_INDEX_URL</c> is left out so one setting has one source), and <c>PIP_TRUSTED_HOST</c>: pip
    /// ignores a plain-http index whose host it does not trust, and the gateway speaks plain http inside the
    /// sandbox's own link (the files are checked against the index's sha256 all the same).
    /// </summary>
    public static IReadOnlyList<string> For(NetworkPolicy policy, bool allowAll)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!allowAll && !(policy.Evaluate(IndexHost, 443).IsAllowed && policy.Evaluate(FilesHost, 443).IsAllowed))
        {
            return [];
        }

        var index = $"{GatewayEnvironment.BaseUrl}/pypi/{IndexHost}/simple/";
        return
        [
            $"PIP_INDEX_URL={index}",
            $"PIP_TRUSTED_HOST={Server.GatewayOptions.GuestHostName}",
            $"UV_DEFAULT_INDEX={index}",
        ];
    }
}
