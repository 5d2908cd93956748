namespace Cleanroom.Policy;

/// <summary>What a rule's host matches.</summary>
public enum HostPatternKind
{
    /// <summary>Exactly one host name, e.g. <c>api.github.com</c>.</summary>
    Name,

    /// <summary><c>*.example.com</c>: every name below example.com at any depth, never example.com itself.</summary>
    Wildcard,

    /// <summary>Exactly one IPv4 or IPv6 address.</summary>
    Address,

    /// <summary>A CIDR block such as <c>10.0.0.0/8</c>.</summary>
    Network,
}
