using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>The outcome of <see cref="PolicyLoader.Load"/>.</summary>
/// <param name="SourcePath">The absolute path of the file that was read; null when none was found.</param>
/// <param name="RepositoryDirectory">The absolute repository directory.</param>
/// <param name="Policy">The compiled policy; null when there are errors.</param>
/// <param name="Diagnostics">Discovery, read and compile diagnostics: errors first, then warnings.</param>
public sealed record PolicyLoadResult(
    string? SourcePath,
    string RepositoryDirectory,
    CompiledPolicy? Policy,
    ImmutableArray<PolicyDiagnostic> Diagnostics)
{
    /// <summary>True when the policy compiled.</summary>
    public bool IsValid => Policy is not null;

    /// <summary>Only the errors.</summary>
    public IEnumerable<PolicyDiagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Only the warnings.</summary>
    public IEnumerable<PolicyDiagnostic> Warnings => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);
}
