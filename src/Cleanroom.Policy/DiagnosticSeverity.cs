namespace Cleanroom.Policy;

/// <summary>Whether a diagnostic makes the policy unusable.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The policy is not compiled.</summary>
    Error,

    /// <summary>The policy compiles, but something deserves attention (an unpinned image, an ignored file).</summary>
    Warning,
}
