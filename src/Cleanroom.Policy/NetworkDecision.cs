namespace Cleanroom.Policy;

/// <summary>The verdict for one destination, with the rule that produced it (for audit logs and error messages).</summary>
/// <param name="IsAllowed">Whether the connection may proceed.</param>
/// <param name="Source">What decided it.</param>
/// <param name="Rule">The deciding rule, when a rule decided.</param>
/// <param name="Host">The destination host as normalised for matching (or as given, when invalid).</param>
/// <param name="Port">The destination port.</param>
public sealed record NetworkDecision(bool IsAllowed, NetworkDecisionSource Source, NetworkRule? Rule, string Host, int Port)
{
    /// <summary><see cref="ReasonCode.HostNotAllowed"/> for a refusal, otherwise <see cref="ReasonCode.Unspecified"/>.</summary>
    public ReasonCode Reason => IsAllowed ? ReasonCode.Unspecified : ReasonCode.HostNotAllowed;
}
