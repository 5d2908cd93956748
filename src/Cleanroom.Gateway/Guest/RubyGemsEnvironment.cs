using Cleanroom.Policy;

namespace Cleanroom.Gateway.Guest;

/// <summary>
/// Sends Bundler's rubygems.org source to the gateway's <c>/rubygems/rubygems.org</c> when the policy allows
/// rubygems.org on 443, through Bundler's mirror setting (<c>mirror.https://rubygems.org/</c>, which Bundler reads
/// from <c>BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/</c>: the key upper-cased, each <c>.</c> as <c>__</c>). The
/// <c>gem</c> command reads no variable naming a source (only <c>GEMRC</c>, a configuration file's path), so it is
/// left alone: <c>gem install --clear-sources --source URL</c> uses the route explicitly.
/// </summary>
public static class RubyGemsEnvironment
{
    /// <summary>The gem server host.</summary>
    public const string Host = "rubygems.org";

    /// <summary>The variables, as <c>KEY=VALUE</c> (none when the policy does not allow rubygems.org on 443).</summary>
    public static IReadOnlyList<string> For(NetworkPolicy policy, bool allowAll)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!allowAll && !policy.Evaluate(Host, 443).IsAllowed)
        {
            return [];
        }

        return [$"BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/={GatewayEnvironment.BaseUrl}/rubygems/{Host}"];
    }
}
