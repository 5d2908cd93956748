using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>Which policy file to read, found by <see cref="PolicyDiscovery"/>.</summary>
/// <param name="PolicyPath">The absolute path of the file to read; null when none was found.</param>
/// <param name="RepositoryDirectory">The absolute repository directory (block inputs are relative to it).</param>
/// <param name="Diagnostics">The ignored-file warning, or the not-found error.</param>
public sealed record PolicyDiscoveryResult(string? PolicyPath, string RepositoryDirectory, ImmutableArray<PolicyDiagnostic> Diagnostics)
{
    /// <summary>True when a file was found.</summary>
    public bool Found => PolicyPath is not null;
}
