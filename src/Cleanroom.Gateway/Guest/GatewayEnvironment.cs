using System.Globalization;
using Cleanroom.Gateway.Server;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Guest;

/// <summary>
/// The variables every execution in a sandbox with a running gateway gets: where the gateway is, and git
/// configuration (<c>GIT_CONFIG_COUNT</c>, <c>GIT_CONFIG_KEY_i</c>, <c>GIT_CONFIG_VALUE_i</c>, read by git 2.31 and
/// later) that sends <c>https://HOST/</c> through the gateway's <c>/git/HOST/</c> route for each host name the policy
/// allows on port 443. Pure: the same policy always gives the same variables, in the same order.
/// </summary>
public static class GatewayEnvironment
{
    /// <summary>The variable holding the gateway's base URL.</summary>
    public const string UrlVariable = "CLEANROOM_GATEWAY_URL";

    /// <summary>
    /// Most hosts given a git rewrite; the rest (in name order) are reached directly. Each host costs two variables,
    /// and an environment has to stay small enough for every exec.
    /// </summary>
    public const int MaxGitHosts = 256;

    /// <summary>The gateway as guests name it: <c>http://gateway.cleanroom.internal:8170</c>.</summary>
    public static string BaseUrl { get; } =
        string.Create(CultureInfo.InvariantCulture, $"http://{GatewayOptions.GuestHostName}:{GatewayOptions.GuestPort}");

    /// <summary>
    /// The variables for a sandbox with <paramref name="policy"/> (<paramref name="allowAll"/>: created with
    /// <c>--dangerously-allow-all</c>), as <c>KEY=VALUE</c> entries. Only exact host names are rewritten: git's
    /// <c>insteadOf</c> matches URL prefixes, so a wildcard rule cannot be expressed, and address rules are not
    /// names the gateway forwards to. A name a deny rule takes back on 443 is left out (allow-all sandboxes are
    /// not held to the policy's rules, so every named host counts).
    /// </summary>
    public static IReadOnlyList<string> For(NetworkPolicy policy, bool allowAll)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var hosts = GitHosts(policy, allowAll);
        var variables = new List<string>(8 + (hosts.Count * 2)) { $"{UrlVariable}={BaseUrl}" };
        variables.AddRange(NpmEnvironment.For(policy, allowAll, BaseUrl));
        variables.AddRange(GoEnvironment.For(policy, allowAll));
        variables.AddRange(PipEnvironment.For(policy, allowAll));
        variables.AddRange(RubyGemsEnvironment.For(policy, allowAll));
        if (hosts.Count == 0)
        {
            return variables;
        }

        variables.Add(string.Create(CultureInfo.InvariantCulture, $"GIT_CONFIG_COUNT={hosts.Count}"));
        for (var i = 0; i < hosts.Count; i++)
        {
            variables.Add(string.Create(CultureInfo.InvariantCulture, $"GIT_CONFIG_KEY_{i}=url.{BaseUrl}/git/{hosts[i]}/.insteadOf"));
            variables.Add(string.Create(CultureInfo.InvariantCulture, $"GIT_CONFIG_VALUE_{i}=https://{hosts[i]}/"));
        }

        return variables;
    }

    /// <summary>The host names that get a git rewrite, in ordinal order, at most <see cref="MaxGitHosts"/>.</summary>
    public static IReadOnlyList<string> GitHosts(NetworkPolicy policy, bool allowAll)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Allow
            .Where(rule => rule.Host.Kind == HostPatternKind.Name && rule.Ports.Contains(443))
            .Select(rule => rule.Host.Value)
            .Where(IsPlainName)
            .Where(host => allowAll || policy.Evaluate(host, 443).IsAllowed)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Take(MaxGitHosts)
            .ToList();
    }

    /// <summary>
    /// The policy's names are normalised (lowercase, IDN as punycode); this keeps anything else out of a URL and a
    /// git configuration key all the same.
    /// </summary>
    private static bool IsPlainName(string host) =>
        host.Length is > 0 and <= 253 && host[0] != '.' && host[0] != '-' && host[^1] != '.'
        && host.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-');
}
