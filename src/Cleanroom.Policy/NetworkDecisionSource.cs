namespace Cleanroom.Policy;

/// <summary>What decided a <see cref="NetworkDecision"/>.</summary>
public enum NetworkDecisionSource
{
    /// <summary>A deny rule matched; deny rules are consulted first.</summary>
    DenyRule,

    /// <summary>An allow rule matched and no deny rule did.</summary>
    AllowRule,

    /// <summary>No rule matched; the policy's default applied.</summary>
    Default,

    /// <summary>The host or port was not a valid destination at all; always denied.</summary>
    InvalidDestination,
}
