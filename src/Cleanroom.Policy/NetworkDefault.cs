namespace Cleanroom.Policy;

/// <summary>What happens to traffic that no rule matches.</summary>
public enum NetworkDefault
{
    /// <summary>Blocked. The only value a policy file may choose on its own.</summary>
    Deny,

    /// <summary>Allowed. Only with an explicit override such as <c>--dangerously-allow-all</c>.</summary>
    Allow,
}
