using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>The outcome of compiling a policy: the policy when there were no errors, and every diagnostic.</summary>
public sealed class PolicyCompileResult
{
    /// <summary>Creates a result; <paramref name="policy"/> must be null when any diagnostic is an error.</summary>
    public PolicyCompileResult(CompiledPolicy? policy, ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        Policy = policy;
        Diagnostics = diagnostics;
    }

    /// <summary>The compiled policy; null when there are errors.</summary>
    public CompiledPolicy? Policy { get; }

    /// <summary>Errors then warnings, each in source order.</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>True when the policy compiled.</summary>
    public bool IsValid => Policy is not null;

    /// <summary>Only the errors.</summary>
    public IEnumerable<PolicyDiagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Only the warnings.</summary>
    public IEnumerable<PolicyDiagnostic> Warnings => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);
}
