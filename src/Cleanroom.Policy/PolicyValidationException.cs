using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>Thrown by <see cref="CompiledPolicy.FromJson"/> for a payload that does not validate.</summary>
public sealed class PolicyValidationException : Exception
{
    /// <summary>Creates the exception from the diagnostics of the failed validation.</summary>
    public PolicyValidationException(ImmutableArray<PolicyDiagnostic> diagnostics)
        : base(Describe(diagnostics)) => Diagnostics = diagnostics;

    /// <summary>Creates an exception with a message only.</summary>
    public PolicyValidationException()
        : this([])
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    public PolicyValidationException(string message)
        : base(message) => Diagnostics = [];

    /// <summary>Creates an exception with a message and a cause.</summary>
    public PolicyValidationException(string message, Exception innerException)
        : base(message, innerException) => Diagnostics = [];

    /// <summary>Every diagnostic, errors first.</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>The API reason: <c>policy_conflict</c> if every error is a conflict, otherwise <c>policy_invalid</c>.</summary>
    public ReasonCode Reason
    {
        get
        {
            var errors = Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            return errors.Count > 0 && errors.All(e => e.Reason == ReasonCode.PolicyConflict)
                ? ReasonCode.PolicyConflict
                : ReasonCode.PolicyInvalid;
        }
    }

    private static string Describe(ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        return errors.Count switch
        {
            0 => "policy invalid",
            1 => "policy invalid: " + errors[0],
            _ => $"policy invalid ({errors.Count} errors): " + errors[0],
        };
    }
}
